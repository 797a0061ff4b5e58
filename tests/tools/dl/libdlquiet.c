/* libdlquiet.c - a library that makes no connection: loading it, with
 * RTLD_DEEPBIND or not, is nothing objpool need mention. */
int dlquiet_answer(void);

int dlquiet_answer(void)
{
    return 42;
}
