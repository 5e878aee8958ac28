/* kepu-pack's command table: one row per subcommand (git.c's command table), read by
 * main.c to find a command and by the option parser (pack_opts.c) for the options a
 * command takes. The commands themselves are declared in pack_cmd.h. */
#ifndef KEPU_TOOLS_PACK_TABLE_H
#define KEPU_TOOLS_PACK_TABLE_H

#define PACK_EXIT_OK    0
#define PACK_EXIT_FAIL  1
#define PACK_EXIT_USAGE 2

struct pack_command {
    const char *name;
    int (*run)(int argc, char **argv);
    int nargs;           /* positional arguments: 0 or 1 */
    unsigned opts, need; /* PACK_OPT_* bits (pack_opts.h): the options it takes, needs */
    const char *usage;   /* the arguments, e.g. "DIR -o OUT --key NAME.key" */
    const char *summary; /* one line for the overall --help */
};

/* The command table, ending with a row whose name is NULL. */
extern const struct pack_command pack_commands[];

#endif
