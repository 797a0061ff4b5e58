/* pg_params.c - libFuzzer target for the replay's ParameterStatus framer
 * (preload/conn/pgparams.c), linked with it alone. The first input byte
 * says how many of the next bytes are the recorded start-up answer; the
 * rest is what the program reads during its session. Fed whole, in chunks
 * drawn from the input and byte by byte, the framer must end in the same
 * state (the same names listed, the same overflow, the same place in a
 * message), and a reset that re-reports every listed parameter as
 * recorded must leave it clean, without a sanitizer report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../preload/conn/pgrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pgrec g[3];

static int same(const struct pgps *a, const struct pgps *b)
{
    if (a->overflow != b->overflow || a->hlen != b->hlen || a->left != b->left || a->ndirty != b->ndirty)
        return 0;
    for (int i = 0; i < a->ndirty; i++) {
        int found = 0;
        for (int j = 0; j < b->ndirty; j++)
            found |= a->dirty[i] == b->dirty[j];
        if (!found)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t rec = data[0];
    data++;
    size--;
    if (rec > size)
        rec = size;
    for (int k = 0; k < 3; k++) {
        memset(&g[k], 0, sizeof g[k]);
        memcpy(g[k].srv, data, rec);
        g[k].srv_len = (uint16_t)rec;
    }
    const uint8_t *in = data + rec;
    size_t n = size - rec;
    pg_params_in(&g[0], in, n);
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)n;
    for (size_t i = 0; i < n;) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        size_t k = 1 + (seed >> 8) % 9;
        if (k > n - i)
            k = n - i;
        pg_params_in(&g[1], in + i, k);
        i += k;
    }
    for (size_t i = 0; i < n; i++)
        pg_params_in(&g[2], in + i, 1);
    if (!same(&g[0].ps, &g[1].ps) || !same(&g[0].ps, &g[2].ps))
        abort();
    if (g[0].ps.ndirty > PGPS_DIRTY)
        abort();
    /* nothing listed and at a boundary: clean, and cleared */
    int want = !g[0].ps.overflow && !g[0].ps.ndirty && !g[0].ps.hlen;
    if (pg_params_clean(&g[0]) != want || g[0].ps.ndirty || g[0].ps.hlen)
        abort();
    return 0;
}
