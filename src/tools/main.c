/* kepu-pack: the venue staff's tool for content packs. The commands live in pack_cmd.c;
 * this file only finds the one named on the command line (git.c's command table). */
#include <stdio.h>
#include <string.h>

#include "kepu/pack.h"
#include "pack_cmd.h"

static void print_usage(FILE *f)
{
    fprintf(f, "usage: kepu-pack COMMAND [ARGUMENTS]\n\ncommands:\n");
    for (const struct pack_command *c = pack_commands; c->name; c++)
        fprintf(f, "  %-9s %s\n            %s\n", c->name, c->usage, c->summary);
    fprintf(f, "\nEvery command takes --help and --version. Exit status: 0 success, 1 failure, "
               "2 bad command line.\n");
}

int main(int argc, char **argv)
{
    kk_json_init();
    if (argc < 2) {
        fprintf(stderr, "kepu-pack: no command given (see: kepu-pack --help)\n");
        return PACK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("kepu-pack %s\n", KK_VERSION);
        return PACK_EXIT_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_usage(stdout);
        return PACK_EXIT_OK;
    }
    for (const struct pack_command *c = pack_commands; c->name; c++)
        if (!strcmp(c->name, argv[1]))
            return c->run(argc - 1, argv + 1);
    fprintf(stderr, "kepu-pack: unknown command '%s' (see: kepu-pack --help)\n", argv[1]);
    return PACK_EXIT_USAGE;
}
