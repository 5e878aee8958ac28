#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("kepu-server %s\n", KK_VERSION);
        return 0;
    }
    fprintf(stderr, "kepu-server: not built yet\n");
    return 1;
}
