#include "pack_opts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kepu/fs.h"
#include "pack_table.h"

static int usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "kepu-pack: %s: %s (see: kepu-pack %s --help)\n", cmd, what, cmd);
    return PACK_EXIT_USAGE;
}

static const struct pack_command *find_command(const char *name)
{
    for (const struct pack_command *c = pack_commands; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* The option letters getopt_long returns, their bit and what a command without it hears. */
static const struct {
    int letter;
    unsigned bit;
    const char *refusal;
} option_bits[] = {
    {'o', PACK_OPT_OUT, "this command takes no -o"},
    {'k', PACK_OPT_KEY, "this command takes no --key"},
    {'p', PACK_OPT_PUBKEY, "this command takes no --pubkey"},
    {'s', PACK_OPT_SERVER, "this command takes no --server"},
    {'t', PACK_OPT_TOKEN, "this command takes no token"},
    {'f', PACK_OPT_TOKEN, "this command takes no token"},
    {'T', PACK_OPT_TIMEOUT, "this command takes no --timeout"},
    {'S', PACK_OPT_SIZE, "this command takes no --size"},
};

/* The options a command needs, in the order their absence is reported. */
static const struct {
    unsigned bit;
    const char *missing;
} needed[] = {
    {PACK_OPT_OUT, "missing -o"},
    {PACK_OPT_KEY, "missing --key"},
    {PACK_OPT_PUBKEY, "missing --pubkey"},
    {PACK_OPT_SERVER, "missing --server"},
};

static int has(const struct pack_opts *o, unsigned bit)
{
    switch (bit) {
    case PACK_OPT_OUT:
        return o->out != NULL;
    case PACK_OPT_KEY:
        return o->key != NULL;
    case PACK_OPT_PUBKEY:
        return o->npubkeys > 0;
    case PACK_OPT_SERVER:
        return o->server != NULL;
    default:
        return 1;
    }
}

int pack_opts_parse(int argc, char **argv, struct pack_opts *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"key", required_argument, NULL, 'k'},
        {"pubkey", required_argument, NULL, 'p'},
        {"server", required_argument, NULL, 's'},
        {"token", required_argument, NULL, 't'},
        {"token-file", required_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, 'T'},
        {"size", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = argv[0];
    const struct pack_command *row = find_command(cmd);
    long v;
    char what[256];
    memset(o, 0, sizeof(*o));
    o->timeout_s = PACK_DEFAULT_TIMEOUT_S;
    o->w = 1920;
    o->h = 1080;
    opterr = 0;
    optind = 0; /* glibc: start afresh */
    for (;;) {
        int c = getopt_long(argc, argv, "o:hV", longopts, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            printf("usage: kepu-pack %s %s\n%s.\n", row->name, row->usage, row->summary);
            return PACK_EXIT_OK;
        }
        if (c == 'V') {
            printf("kepu-pack %s\n", KK_VERSION);
            return PACK_EXIT_OK;
        }
        size_t i = 0;
        while (i < sizeof(option_bits) / sizeof(option_bits[0]) && option_bits[i].letter != c)
            i++;
        if (i == sizeof(option_bits) / sizeof(option_bits[0])) {
            if (optopt == 'o')
                snprintf(what, sizeof(what), "-%c needs a value", optopt);
            else
                snprintf(what, sizeof(what), "unknown or incomplete option %s", argv[optind - 1]);
            return usage_error(cmd, what);
        }
        if (!(row->opts & option_bits[i].bit)) {
            return usage_error(cmd, option_bits[i].refusal);
        }
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case 'k':
            o->key = optarg;
            break;
        case 's':
            o->server = optarg;
            break;
        case 't':
            o->token = optarg;
            break;
        case 'f':
            o->token_file = optarg;
            break;
        case 'p':
            if (o->npubkeys == PACK_MAX_PUBKEYS)
                return usage_error(cmd, "too many --pubkey options");
            o->pubkeys[o->npubkeys++] = optarg;
            break;
        case 'T':
            if (kk_parse_long(optarg, 1, 3600, &v))
                return usage_error(cmd, "--timeout: expected seconds, 1 to 3600");
            o->timeout_s = (int)v;
            break;
        case 'S':
            if (kk_parse_size(optarg, 320, 16384, &o->w, &o->h))
                return usage_error(cmd, "--size: expected WIDTHxHEIGHT, e.g. 1080x1920");
            if (o->nsizes == PACK_MAX_SIZES)
                return usage_error(cmd, "too many --size options (at most 4)");
            o->sizes[o->nsizes][0] = o->w;
            o->sizes[o->nsizes][1] = o->h;
            o->nsizes++;
            break;
        }
    }
    int npos = argc - optind;
    if (npos > 1 || (npos == 1 && !row->nargs))
        return usage_error(cmd, "too many arguments");
    if (row->nargs && npos == 0)
        return usage_error(cmd, "missing argument");
    if (npos)
        o->arg = argv[optind];
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if ((row->need & needed[i].bit) && !has(o, needed[i].bit))
            return usage_error(cmd, needed[i].missing);
    return -1;
}
