// Aborts: natively SIGABRT (a shell reports 134); in wasm a trap, which wasmguard reports
// as 134 too.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
