// Tries to leave the preopened directory DIR (argv[1]) in many ways and prints the errno
// each attempt gets. Run by wasmguard, every attempt must be refused.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *what, int result) {
    if (result < 0) {
        printf("%s: refused, errno %d\n", what, errno);
    } else {
        printf("%s: ALLOWED\n", what);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        return 2;
    }
    const char *d = argv[1];
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/../x", d);
    report("open ../x", open(p, O_RDONLY));
    snprintf(p, sizeof p, "%s/sub/../../x", d);
    report("open sub/../../x", open(p, O_RDONLY));
    report("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    snprintf(p, sizeof p, "%s/etc_link/passwd", d);
    report("open etc_link/passwd", open(p, O_RDONLY));
    snprintf(p, sizeof p, "%s/chain1/x", d);
    report("open chain1/x", open(p, O_RDONLY));
    snprintf(p, sizeof p, "%s/loop1", d);
    report("open loop1", open(p, O_RDONLY));
    snprintf(p, sizeof p, "%s/../evil", d);
    report("mkdir ../evil", mkdir(p, 0755));
    snprintf(p, sizeof p, "%s/in.txt", d);
    snprintf(q, sizeof q, "%s/../stolen", d);
    report("rename in.txt ../stolen", rename(p, q));
    snprintf(p, sizeof p, "%s/../victim", d);
    report("unlink ../victim", unlink(p));
    snprintf(p, sizeof p, "%s/../victim", d);
    report("rmdir ../victim", rmdir(p));
    char buf[256];
    snprintf(p, sizeof p, "%s/../link", d);
    report("readlink ../link", (int)readlink(p, buf, sizeof buf));
    struct stat st;
    snprintf(p, sizeof p, "%s/etc_link/passwd", d);
    report("stat etc_link/passwd", stat(p, &st));
    snprintf(p, sizeof p, "%s/in.txt", d);
    report("open in.txt (inside)", open(p, O_RDONLY));
    return 0;
}
