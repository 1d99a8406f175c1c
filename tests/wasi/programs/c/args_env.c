// Echoes the arguments (but not argv[0], which differs between hosts) and a few
// environment variables.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("argc-1 = %d\n", argc - 1);
    for (int i = 1; i < argc; i++) {
        printf("arg %d: [%s]\n", i, argv[i]);
    }
    const char *names[] = {"GREETING", "EMPTY", "MISSING"};
    for (int i = 0; i < 3; i++) {
        const char *value = getenv(names[i]);
        printf("%s=%s\n", names[i], value ? value : "(unset)");
    }
    return 0;
}
