// Copies DIR/in.txt to DIR/out.txt in small chunks, then reads the copy back.
// DIR is argv[1].
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: copy DIR\n");
        return 2;
    }
    char in_path[256], out_path[256];
    snprintf(in_path, sizeof in_path, "%s/in.txt", argv[1]);
    snprintf(out_path, sizeof out_path, "%s/out.txt", argv[1]);
    int in = open(in_path, O_RDONLY);
    if (in < 0) {
        printf("open in: errno %d\n", errno);
        return 1;
    }
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0) {
        printf("open out: errno %d\n", errno);
        return 1;
    }
    char buf[7];
    long total = 0;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            printf("short write\n");
            return 1;
        }
        total += n;
    }
    close(in);
    close(out);
    printf("copied %ld bytes\n", total);

    struct stat st;
    if (stat(out_path, &st) == 0) {
        printf("out.txt is a regular file: %s, size %lld\n", S_ISREG(st.st_mode) ? "yes" : "no", (long long)st.st_size);
    }
    FILE *f = fopen(out_path, "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        printf("copy: %s", line);
    }
    if (f) {
        fseek(f, 6, SEEK_SET);
        int c = fgetc(f);
        long at = ftell(f);
        printf("at 6: %c, then at %ld\n", c, at);
        fclose(f);
    }
    if (unlink(out_path) == 0) {
        printf("removed out.txt\n");
    }
    return 0;
}
