/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal KTAP test runner for splitkit's userspace unit tests.
 *
 * A test binary defines a table of cases and hands it to ktap_main(); each
 * case prints one "ok"/"not ok" line.  Checks inside a case record a failure
 * and carry on, so one run shows every broken expectation.  Output follows
 * Documentation/dev-tools/ktap.rst so tests/unit/run.sh (and a person) can
 * read it the same way as kselftest output.
 */
#ifndef _SPLITKIT_KTAP_H
#define _SPLITKIT_KTAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ktap_case {
	const char *name;
	void (*run)(void);
};

/* Failures recorded by the case being run; reset by ktap_main(). */
static int ktap_case_failures;

static inline void ktap_fail_at(const char *file, int line,
				const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void ktap_fail_at(const char *file, int line,
				const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	ktap_case_failures++;
}

#define KTAP_EXPECT(cond)						\
	do {								\
		if (!(cond))						\
			ktap_fail_at(__FILE__, __LINE__,		\
				     "expected: %s", #cond);		\
	} while (0)

#define KTAP_EXPECT_EQ(a, b)						\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b)						\
			ktap_fail_at(__FILE__, __LINE__,		\
				     "expected %s == %s (%lld vs %lld)",\
				     #a, #b, _a, _b);			\
	} while (0)

/* For a precondition without which the rest of the case is meaningless. */
#define KTAP_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			ktap_fail_at(__FILE__, __LINE__,		\
				     "assertion failed: %s", #cond);	\
			return;						\
		}							\
	} while (0)

#define KTAP_CASE(fn)	{ #fn, fn }
#define KTAP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline int ktap_main(const struct ktap_case *cases, size_t n)
{
	size_t i;
	int failed = 0;

	printf("KTAP version 1\n1..%zu\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		ktap_case_failures = 0;
		cases[i].run();
		if (ktap_case_failures)
			failed++;
		printf("%s %zu %s\n", ktap_case_failures ? "not ok" : "ok",
		       i + 1, cases[i].name);
		fflush(stdout);
	}
	printf("# totals: pass:%zu fail:%d\n", n - failed, failed);
	return failed ? 1 : 0;
}

#define KTAP_MAIN(cases)						\
	int main(void)							\
	{								\
		return ktap_main(cases, KTAP_ARRAY_SIZE(cases));	\
	}

#endif /* _SPLITKIT_KTAP_H */
