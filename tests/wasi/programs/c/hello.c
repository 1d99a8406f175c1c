// Hello world through printf (fd_write on standard output).
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    printf("%d + %d = %d, pi is about %.3f\n", 2, 3, 2 + 3, 3.14159);
    return 0;
}
