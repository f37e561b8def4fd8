// SPDX-License-Identifier: GPL-2.0
/*
 * Command-line plumbing shared by every area of the splitkit tool: finding
 * the command in an area's table, parsing its options from the one option
 * table below, checking the operand count, and help for areas and commands.
 *
 * Help: "splitkit <area> help [command]" and "splitkit <area> <command>
 * --help" print to stdout and exit 0; a usage error prints the command's
 * usage to stderr and exits SK_EXIT_USAGE (1, as qemu-img: 2 and 3 are
 * "img check" found errors, found leaks).
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "splitkit.h"

/* Where a parsed option goes in struct sk_args. */
enum sk_opt_type {
	SK_FLAG,	/* bool at .field */
	SK_STRING,	/* const char * at .field */
	SK_LIST,	/* const char *[SK_MAX_REPEAT] at .field, count at .count */
	SK_COUNT,	/* uint64_t at .field, a size > 0 */
};

#define ARG(f)	offsetof(struct sk_args, f)

static const struct sk_optdef {
	unsigned int bit;
	const char *name;
	char short_name;		/* 0: long only */
	enum sk_opt_type type;
	size_t field, count;
	const char *help;
} optdefs[] = {
	{ SK_OPT_JSON, "json", 'j', SK_FLAG, ARG(json), 0, "print JSON" },
	{ SK_OPT_REPAIR, "repair", 'r', SK_FLAG, ARG(repair), 0,
	  "repair leaked clusters" },
	{ SK_OPT_STEP, "step", 's', SK_COUNT, ARG(step), 0,
	  "clusters per step (img: default 256; vbd: 1..4096, sets the disk's image_op/step_clusters, kernel default 16, kept for later operations)" },
	{ SK_OPT_STREAM, "stream", 0, SK_FLAG, ARG(stream), 0,
	  "pull the backing chain into FILE instead" },
	{ SK_OPT_TAG, "tag", 't', SK_LIST, ARG(tags), ARG(nr_tags),
	  "match this tag" },
	{ SK_OPT_CLUSTER, "cluster-size", 'c', SK_STRING, ARG(cluster), 0,
	  "cluster size, a power of two 512..2M (default 64k)" },
	{ SK_OPT_BACKING, "backing", 'b', SK_STRING, ARG(backing), 0,
	  "backing file" },
	{ SK_OPT_BACKING_FMT, "backing-format", 'F', SK_STRING,
	  ARG(backing_format), 0, "backing file format: qcow2 or raw" },
	{ SK_OPT_META, "meta", 'm', SK_LIST, ARG(metas), ARG(nr_metas),
	  "VM information field KEY=VALUE (tag=T adds a tag)" },
	{ SK_OPT_FORCE, "force", 'f', SK_FLAG, ARG(force), 0,
	  "write a policy value this splitkit_back would refuse (for a newer one)" },
};

#define NR_OPTDEFS	(sizeof(optdefs) / sizeof(optdefs[0]))

static const char *area_name;		/* for messages */
static char prog[64] = "splitkit";

/** sk_prog() - "splitkit <area>", to begin messages with */
const char *sk_prog(void)
{
	return prog;
}

/* The command a subcommand being run belongs to ("meta" of "meta set"). */
static const char *parent_name;

static void cmd_usage(FILE *out, const struct sk_cmd *cmd, const char *pfx)
{
	const struct sk_cmd *sub;
	size_t i;

	if (cmd->sub) {
		for (sub = cmd->sub; sub->name; sub++)
			fprintf(out, "%ssplitkit %s %s %s %s\n", pfx, area_name,
				cmd->name, sub->name, sub->synopsis);
		return;
	}
	fprintf(out, "%ssplitkit %s %s%s%s %s\n", pfx, area_name,
		parent_name ? parent_name : "", parent_name ? " " : "",
		cmd->name, cmd->synopsis);
	for (i = 0; i < NR_OPTDEFS; i++) {
		const struct sk_optdef *d = &optdefs[i];
		char flag[8] = "";

		if (!(cmd->opts & d->bit))
			continue;
		if (d->short_name)
			snprintf(flag, sizeof(flag), "-%c,", d->short_name);
		fprintf(out, "    %-4s --%-16s %s\n", flag, d->name, d->help);
	}
}

static void cmd_help(FILE *out, const struct sk_cmd *cmd)
{
	cmd_usage(out, cmd, "usage: ");
	if (!cmd->sub)
		fprintf(out, "%s\n", cmd->summary);
}

/**
 * sk_usage_error() - print the command's usage to stderr
 * @args: the command being run
 *
 * Return: SK_EXIT_USAGE, the exit status for a usage error.
 */
int sk_usage_error(const struct sk_args *args)
{
	cmd_usage(stderr, args->cmd, "usage: ");
	return SK_EXIT_USAGE;
}

/** sk_area_help() - every command of @area with its synopsis */
void sk_area_help(FILE *out, const struct sk_area *area)
{
	const struct sk_cmd *cmd;

	area_name = area->name;
	fprintf(out, "usage: splitkit %s <command> ...   (%s)\n", area->name,
		area->summary);
	for (cmd = area->cmds; cmd->name; cmd++) {
		if (cmd->sub) {
			cmd_usage(out, cmd, "  ");
			continue;
		}
		fprintf(out, "  splitkit %s %s %s\n      %s\n", area->name,
			cmd->name, cmd->synopsis, cmd->summary);
	}
	fprintf(out, "  splitkit %s help [COMMAND]\n", area->name);
}

static const struct sk_cmd *find(const struct sk_cmd *cmds, const char *name)
{
	for (; cmds->name; cmds++)
		if (!strcmp(cmds->name, name))
			return cmds;
	return NULL;
}

static bool wants_help(int argc, char **argv)
{
	return argc == 2 && (!strcmp(argv[1], "--help") ||
			     !strcmp(argv[1], "-h"));
}

/* Put one parsed option where its definition says; -EINVAL if it is bad. */
static int store(struct sk_args *args, const struct sk_optdef *d,
		 const char *arg)
{
	char *base = (char *)args;
	int *count = (int *)(base + d->count);

	switch (d->type) {
	case SK_FLAG:
		*(bool *)(base + d->field) = true;
		return 0;
	case SK_STRING:
		*(const char **)(base + d->field) = arg;
		return 0;
	case SK_LIST:
		if (*count == SK_MAX_REPEAT)
			return -EINVAL;
		((const char **)(base + d->field))[(*count)++] = arg;
		return 0;
	case SK_COUNT:
		if (sk_parse_size(arg, (uint64_t *)(base + d->field)) ||
		    !*(uint64_t *)(base + d->field))
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* Removes argv's first "--" (argv[argc] is NULL); Return: the new argc. */
static int drop_end_of_options(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		memmove(&argv[i], &argv[i + 1], (argc - i) * sizeof(*argv));
		return argc - 1;
	}
	return argc;
}

/* Parse @cmd's options; operands are left in args->argc/argv. */
static int parse(const struct sk_cmd *cmd, int argc, char **argv,
		 struct sk_args *args)
{
	struct option longs[NR_OPTDEFS + 1];
	char shorts[2 * NR_OPTDEFS + 1] = "";
	unsigned int n = 0;
	size_t i;
	int c;

	memset(args, 0, sizeof(*args));
	args->cmd = cmd;
	if (wants_help(argc, argv)) {
		cmd_help(stdout, cmd);
		return 0;
	}
	/*
	 * A command without options takes every operand as it is, but for
	 * the first "--", which ends the options of every other command (so
	 * "meta rm FILE tag -- -x" works as "meta set FILE tag -- -x" does).
	 */
	if (!cmd->opts) {
		argc = drop_end_of_options(argc, argv);
		args->argc = argc - 1;
		args->argv = argv + 1;
		goto count;
	}
	/* GNU order: options may follow operands, as they always could. */
	for (i = 0; i < NR_OPTDEFS; i++) {
		const struct sk_optdef *d = &optdefs[i];

		if (!(cmd->opts & d->bit))
			continue;
		longs[n].name = d->name;
		longs[n].has_arg = d->type == SK_FLAG ? no_argument :
				   required_argument;
		longs[n].flag = NULL;
		longs[n].val = d->short_name ? d->short_name : 0x100 + (int)i;
		n++;
		if (d->short_name) {
			size_t len = strlen(shorts);

			shorts[len] = d->short_name;
			if (d->type != SK_FLAG)
				shorts[++len] = ':';
			shorts[len + 1] = 0;
		}
	}
	memset(&longs[n], 0, sizeof(longs[n]));
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct sk_optdef *d = NULL;

		for (i = 0; i < NR_OPTDEFS; i++)
			if ((optdefs[i].short_name ?
			     optdefs[i].short_name : 0x100 + (int)i) == c)
				d = &optdefs[i];
		if (!d)
			return sk_usage_error(args);
		if (store(args, d, optarg))
			return sk_usage_error(args);
	}
	args->argc = argc - optind;
	args->argv = argv + optind;
count:
	if (args->argc < cmd->min_args ||
	    (cmd->max_args >= 0 && args->argc > cmd->max_args))
		return sk_usage_error(args);
	return -1;
}

/* Run @cmd with argv[0] its own name; subcommands recurse. */
static int run_cmd(const struct sk_cmd *cmd, int argc, char **argv)
{
	struct sk_args args;
	int ret;

	if (cmd->sub) {
		const struct sk_cmd *sub;

		if (argc < 2 || wants_help(argc, argv)) {
			cmd_usage(argc < 2 ? stderr : stdout, cmd, "usage: ");
			return argc < 2 ? SK_EXIT_USAGE : 0;
		}
		sub = find(cmd->sub, argv[1]);
		if (!sub) {
			cmd_usage(stderr, cmd, "usage: ");
			return SK_EXIT_USAGE;
		}
		parent_name = cmd->name;
		return run_cmd(sub, argc - 1, argv + 1);
	}
	ret = parse(cmd, argc, argv, &args);
	return ret >= 0 ? ret : cmd->run(&args);
}

/**
 * sk_run_area() - run "splitkit <area> <command> ..."
 * @area: the area's command table
 * @argc: arguments from the area's name on
 * @argv: argv[0] is the area's name
 *
 * Return: the exit status.
 */
int sk_run_area(const struct sk_area *area, int argc, char **argv)
{
	const struct sk_cmd *cmd;

	area_name = area->name;
	snprintf(prog, sizeof(prog), "splitkit %s", area->name);
	if (argc < 2) {
		sk_area_help(stderr, area);
		return SK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc > 2) {
			cmd = find(area->cmds, argv[2]);
			if (!cmd) {
				fprintf(stderr, "splitkit %s: unknown command "
					"'%s'\n", area->name, argv[2]);
				return SK_EXIT_USAGE;
			}
			cmd_help(stdout, cmd);
			return 0;
		}
		sk_area_help(stdout, area);
		return 0;
	}
	cmd = find(area->cmds, argv[1]);
	if (!cmd) {
		fprintf(stderr, "splitkit %s: unknown command '%s'\n",
			area->name, argv[1]);
		sk_area_help(stderr, area);
		return SK_EXIT_USAGE;
	}
	return run_cmd(cmd, argc - 1, argv + 1);
}
