/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit tool: how areas and their commands plug in, the options they
 * share, and the helpers every area uses.
 *
 * The command line is "splitkit <area> <command> [options] operands".  An
 * area (img today; vbd, negotiate and shunt to come) is a table of
 * commands (struct sk_cmd); main.c lists the areas, cli.c parses options
 * from one table for all commands (each command names the ones it takes)
 * and prints help.  A command gets its parsed options and operands in
 * struct sk_args and returns the process exit status.
 */
#ifndef _SPLITKIT_TOOL_H
#define _SPLITKIT_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;

/* Options a command may take (struct sk_cmd.opts); cli.c has the table. */
enum {
	SK_OPT_JSON		= 1U << 0,	/* -j, --json */
	SK_OPT_REPAIR		= 1U << 1,	/* -r, --repair */
	SK_OPT_STEP		= 1U << 2,	/* -s, --step N */
	SK_OPT_STREAM		= 1U << 3,	/* --stream */
	SK_OPT_TAG		= 1U << 4,	/* -t, --tag TAG (repeatable) */
	SK_OPT_CLUSTER		= 1U << 5,	/* -c, --cluster-size SIZE */
	SK_OPT_BACKING		= 1U << 6,	/* -b, --backing FILE */
	SK_OPT_BACKING_FMT	= 1U << 7,	/* -F, --backing-format FMT */
	SK_OPT_META		= 1U << 8,	/* -m, --meta KEY=VALUE (repeatable) */
	SK_OPT_FORCE		= 1U << 9,	/* -f, --force */
};

#define SK_MAX_REPEAT	64

/* What the shared parser hands a command. */
struct sk_args {
	bool json, repair, stream, force;
	uint64_t step;			/* 0: not given */
	const char *cluster, *backing, *backing_format;
	const char *tags[SK_MAX_REPEAT];
	int nr_tags;
	const char *metas[SK_MAX_REPEAT];
	int nr_metas;
	int argc;			/* operands after the options */
	char **argv;
	const struct sk_cmd *cmd;
};

/* exit status of a usage error (img check's 2 and 3 are qemu-img's) */
#define SK_EXIT_USAGE	1

struct sk_cmd {
	const char *name;
	const char *synopsis;		/* options and operands, for help */
	const char *summary;		/* one line */
	unsigned int opts;		/* SK_OPT_* it accepts */
	int min_args, max_args;		/* operands; max -1: no limit */
	int (*run)(const struct sk_args *args);
	const struct sk_cmd *sub;	/* subcommands instead of run */
	int kind;			/* free for the command's own use */
};

struct sk_area {
	const char *name;
	const char *summary;
	const struct sk_cmd *cmds;	/* ends with an entry without name */
};

/* The areas (main.c lists them). */
extern const struct sk_area sk_img_area;
extern const struct sk_area sk_negotiate_area;
extern const struct sk_area sk_vbd_area;
extern const struct sk_area sk_shunt_area;

/* cli.c */
int sk_run_area(const struct sk_area *area, int argc, char **argv);
int sk_usage_error(const struct sk_args *args);
const char *sk_prog(void);
void sk_area_help(FILE *out, const struct sk_area *area);

/* util.c */
int sk_fail_errno(const char *what, int err);
int sk_parse_size(const char *s, uint64_t *out);
void sk_progress(const char *what, uint64_t done, uint64_t total);
void sk_progress_end(void);
void sk_json_print(struct json_object *obj);
void sk_put_text(FILE *out, const char *s, bool always);
int sk_read_line(const char *path, char *buf, size_t n);

#endif /* _SPLITKIT_TOOL_H */
