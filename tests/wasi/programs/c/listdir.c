// Lists DIR (argv[1]) and DIR/sub, sorted by name, with the type of each entry and the
// size of regular files.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *path) {
    DIR *dir = opendir(path);
    if (!dir) {
        printf("cannot open %s\n", path);
        return;
    }
    char *names[256];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) && count < 256) {
        names[count++] = strdup(entry->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof names[0], by_name);
    printf("%d entries\n", count);
    for (int i = 0; i < count; i++) {
        char full[512];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat st;
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0) {
            // `..` of a preopened directory is outside the sandbox: not looked at.
            printf("  %s\n", names[i]);
        } else if (stat(full, &st) != 0) {
            printf("  %s: stat failed\n", names[i]);
        } else if (S_ISDIR(st.st_mode)) {
            printf("  %s/\n", names[i]);
        } else {
            printf("  %s (%lld bytes)\n", names[i], (long long)st.st_size);
        }
        free(names[i]);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    char sub[256];
    snprintf(sub, sizeof sub, "%s/sub", argv[1]);
    list(argv[1]);
    list(sub);
    return 0;
}
