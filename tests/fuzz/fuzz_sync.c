/* Every server answer the sync client reads (src/core/sync_private.h): the heartbeat's
 * assignment, the events answer (to a batch of three known ids) and error answers. */
#include "fuzz_util.h"

#include "sync_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char id0[] = "0123456789abcdef0123456789abcdef";
    static char id1[] = "00000000000000000000000000000001";
    static char id2[] = "ffffffffffffffffffffffffffffffff";
    char *const ids[] = {id0, id1, id2};
    struct kk_buf err = KK_BUF_INIT;
    if (kk_sync_parse_answers((const char *)data, size, ids, 3, &err) && !err.len)
        abort(); /* a refusal without a message */
    kk_buf_release(&err);
    return 0;
}
