/* kepu-pack's one option parser, for every subcommand (git's parse-options): which
 * options a command takes and which it needs are columns of its row in the command table
 * (pack_cmd.h), so every command reads its command line the same way and says the same
 * thing about the same mistake. */
#ifndef KEPU_TOOLS_PACK_OPTS_H
#define KEPU_TOOLS_PACK_OPTS_H

/* The options, as bits for the table's opts and need columns. */
enum {
    PACK_OPT_OUT = 1u << 0,     /* -o, --output */
    PACK_OPT_KEY = 1u << 1,     /* --key NAME.key */
    PACK_OPT_PUBKEY = 1u << 2,  /* --pubkey NAME.pub, repeatable */
    PACK_OPT_SERVER = 1u << 3,  /* --server URL */
    PACK_OPT_TOKEN = 1u << 4,   /* --token T, --token-file F */
    PACK_OPT_TIMEOUT = 1u << 5, /* --timeout SECONDS (1..3600) */
    PACK_OPT_SIZE = 1u << 6,    /* --size WxH (check: repeatable) */
};

#define PACK_MAX_PUBKEYS       16
#define PACK_DEFAULT_TIMEOUT_S 30
#define PACK_MAX_SIZES         4 /* --size options of one check */

struct pack_opts {
    const char *arg; /* the positional argument, NULL when the command takes none */
    const char *out;
    const char *key;
    const char *pubkeys[PACK_MAX_PUBKEYS];
    int npubkeys;
    const char *server;
    const char *token;
    const char *token_file;
    int timeout_s; /* PACK_DEFAULT_TIMEOUT_S unless given */
    int w, h;      /* 1920x1080 unless given; the last --size */
    int nsizes;    /* how many --size options: every one, in sizes */
    int sizes[PACK_MAX_SIZES][2];
};

/* Parses the arguments of the command argv[0] (a row of pack_commands) into o. Returns -1
 * to go on, or the exit code to return at once: PACK_EXIT_OK after --help or --version
 * (printed), PACK_EXIT_USAGE after one line "kepu-pack: CMD: what (see: kepu-pack CMD
 * --help)" on stderr. */
int pack_opts_parse(int argc, char **argv, struct pack_opts *o);

#endif
