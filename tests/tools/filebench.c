/* filebench.c - ns per fopen + fgets + fclose of a small file (bench/files.sh).
 *
 *   filebench PATH [--iters N] [--rounds R] [--kept]
 *
 * Prints "ns_per_op=X" (the best of R rounds of N cycles: the least
 * disturbed run, as the noise here only ever adds time). --kept measures
 * the limit of reuse: one FILE kept open, fflush + rewind + fgets per cycle
 * (fflush makes the rewind seek and re-read through the kernel).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: filebench PATH [--iters N] [--rounds R] [--kept]\n");
        return 2;
    }
    const char *path = argv[1];
    long iters = 20000, rounds = 7;
    int kept = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atol(argv[++i]);
        else if (!strcmp(argv[i], "--kept"))
            kept = 1;
    }
    char line[512], first[512];
    FILE *k = fopen(path, "r");
    if (!k || !fgets(first, sizeof first, k)) {
        perror(path);
        return 1;
    }
    if (!kept) {
        fclose(k);
        k = NULL;
    }
    double best = 1e30;
    long bad = 0;
    for (long r = 0; r < rounds; r++) {
        double t0 = now_s();
        for (long i = 0; i < iters; i++) {
            if (kept) {
                fflush(k);
                rewind(k);
                if (!fgets(line, sizeof line, k))
                    bad++;
            } else {
                FILE *fp = fopen(path, "r");
                if (!fp || !fgets(line, sizeof line, fp))
                    bad++;
                if (fp)
                    fclose(fp);
            }
        }
        double per = (now_s() - t0) / (double)iters * 1e9;
        if (per < best)
            best = per;
        if (strcmp(line, first))
            bad++;
    }
    printf("ns_per_op=%.0f bad=%ld\n", best, bad);
    return bad ? 1 : 0;
}
