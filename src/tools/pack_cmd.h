/* kepu-pack's commands (DESIGN.md "Command lines"). Each takes the command's own
 * arguments (argv[0] is the command name), prints what it did on stdout and, on failure,
 * one line "kepu-pack: <command>: <what is wrong>" on stderr, and returns the exit code:
 * PACK_EXIT_OK, PACK_EXIT_FAIL, or PACK_EXIT_USAGE for a bad command line or a command
 * that is not implemented yet. main.c holds the table that maps names to these. */
#ifndef KEPU_TOOLS_PACK_CMD_H
#define KEPU_TOOLS_PACK_CMD_H

#include "pack_table.h"

int pack_cmd_keygen(int argc, char **argv);
int pack_cmd_validate(int argc, char **argv);
int pack_cmd_build(int argc, char **argv);
int pack_cmd_bundle(int argc, char **argv);
int pack_cmd_verify(int argc, char **argv);
int pack_cmd_preview(int argc, char **argv); /* pack_check.c */
int pack_cmd_check(int argc, char **argv);   /* pack_check.c */
/* Not implemented yet: prints so and returns PACK_EXIT_USAGE. */
int pack_cmd_publish(int argc, char **argv);

#endif
