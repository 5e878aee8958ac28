#include "kepu/enrol.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kepu/alloc.h"
#include "kepu/config.h"
#include "kepu/fs.h"
#include "kepu/manifest.h"

#define MAX_ANSWER (64u * 1024)
#define MAX_KEYS   16

static size_t on_write(char *p, size_t size, size_t n, void *user)
{
    struct kk_buf *b = user;
    return kk_buf_add(b, p, size * n) ? 0 : size * n;
}

/* POSTs {"code"} and leaves the answer in answer, the HTTP status in *status. */
static enum kk_err post_code(const struct kk_enrol_opts *o, struct kk_buf *answer, long *status,
                             struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf url = KK_BUF_INIT;
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL;
    cJSON *body = cJSON_CreateObject();
    char *text = NULL;
    CURL *c = curl_easy_init();
    size_t ulen = strlen(o->url);
    while (ulen && o->url[ulen - 1] == '/')
        ulen--;
    if (!c || !body || !cJSON_AddStringToObject(body, "code", o->code) ||
        !(text = cJSON_PrintUnformatted(body)) ||
        kk_buf_addf(&url, "%.*s/api/v1/enrol", (int)ulen, o->url) ||
        !(h = curl_slist_append(NULL, "Content-Type: application/json"))) {
        rc = kk_fail(err, KK_ERR_NOMEM, "enrol: out of memory");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, kk_buf_str(&url));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    if (o->ca_file && *o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    CURLcode cr = curl_easy_perform(c);
    if (cr != CURLE_OK) {
        rc = kk_fail(err, KK_ERR_NET, "enrol: %s: %s", kk_buf_str(&url),
                     cr == CURLE_WRITE_ERROR ? "answer too large"
                     : *cerr                 ? cerr
                                             : curl_easy_strerror(cr));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
done:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    cJSON_free(text);
    cJSON_Delete(body);
    kk_buf_release(&url);
    return rc;
}

/* Folder part of path ("." when it has none); free with kk_free. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return kk_strdup(".");
    return kk_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* kiosk.conf with the four keys set: every other line kept, each key's lines replaced
 * by one line in the place of the first, missing keys appended. */
static enum kk_err new_config(const char *path, const char *const keys[4],
                              const char *const values[4], struct kk_buf *out, struct kk_buf *err)
{
    struct kk_buf old = KK_BUF_INIT;
    int done[4] = {0};
    enum kk_err rc = kk_file_read(path, KK_MAX_CONFIG_BYTES, &old, err);
    if (rc == KK_ERR_NOTFOUND) {
        kk_buf_reset(err);
        rc = kk_buf_adds(out, "# kepu-kiosk configuration (README.md, \"Configuration "
                              "reference\"); kiosk_id, server_url,\n# token_file and "
                              "trusted_keys were written by kepu-kiosk --enrol.\n");
    }
    if (rc)
        goto done;
    for (const char *line = old.data; line && *line && !rc;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
        const char *k = line + strspn(line, " \t");
        int which = -1;
        for (int i = 0; i < 4 && which < 0; i++) {
            size_t kl = strlen(keys[i]);
            if (!strncmp(k, keys[i], kl) && strchr(" \t=", k[kl]) &&
                k[kl + strspn(k + kl, " \t")] == '=')
                which = i;
        }
        if (which < 0)
            rc = kk_buf_add(out, line, n);
        else if (!done[which]++)
            rc = kk_buf_addf(out, "%s = %s\n", keys[which], values[which]);
        if (!rc && which < 0 && !end)
            rc = kk_buf_adds(out, "\n");
        line += n;
    }
    for (int i = 0; i < 4 && !rc; i++)
        if (!done[i])
            rc = kk_buf_addf(out, "%s = %s\n", keys[i], values[i]);
    if (rc)
        rc = kk_fail(err, rc, "%s: out of memory", path);
done:
    kk_buf_release(&old);
    return rc;
}

/* Checks the server's answer and decodes its keys. */
static enum kk_err read_answer(const cJSON *a, struct kk_enrol_result *res, const char **token,
                               struct kk_pubkey *keys, struct kk_buf *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "kiosk");
    const cJSON *venue = cJSON_GetObjectItemCaseSensitive(a, "venue");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(a, "token");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(a, "trusted_keys");
    struct kk_config probe;
    if (!cJSON_IsString(id) || !cJSON_IsString(tok) || !cJSON_IsArray(list) ||
        !cJSON_IsString(venue) || strlen(venue->valuestring) > KK_MAX_ID_LEN)
        return kk_fail(err, KK_ERR_NET,
                       "enrol: the server's answer lacks kiosk, venue, token"
                       " or trusted_keys");
    struct kk_buf why = KK_BUF_INIT;
    if (kk_config_init(&probe))
        return kk_fail(err, KK_ERR_NOMEM, "enrol: out of memory");
    enum kk_err rc = kk_config_set(&probe, "kiosk_id", id->valuestring, &why);
    kk_config_release(&probe);
    if (rc)
        rc = kk_fail(err, KK_ERR_NET, "enrol: the server's answer: %s", kk_buf_str(&why));
    kk_buf_release(&why);
    if (rc)
        return rc;
    size_t tl = strlen(tok->valuestring);
    if (tl < 16 || tl > 256 || strspn(tok->valuestring, "0123456789abcdef") != tl)
        return kk_fail(err, KK_ERR_NET, "enrol: the server's token is not a hex token");
    int n = cJSON_GetArraySize(list);
    if (n > MAX_KEYS)
        return kk_fail(err, KK_ERR_NET, "enrol: more than %d trusted keys", MAX_KEYS);
    for (int i = 0; i < n; i++) {
        const cJSON *k = cJSON_GetArrayItem(list, i);
        size_t got = 0;
        if (!cJSON_IsString(k) ||
            sodium_base642bin(keys[i].key, KK_PUBKEY_BYTES, k->valuestring, strlen(k->valuestring),
                              NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) ||
            got != KK_PUBKEY_BYTES)
            return kk_fail(err, KK_ERR_NET, "enrol: trusted_keys[%d] is not an ed25519 key", i);
    }
    memcpy(res->kiosk_id, id->valuestring, strlen(id->valuestring) + 1);
    memcpy(res->venue, venue->valuestring, strlen(venue->valuestring) + 1);
    res->nkeys = (size_t)n;
    *token = tok->valuestring;
    return KK_OK;
}

enum kk_err kk_enrol_run(const struct kk_enrol_opts *o, struct kk_enrol_result *res,
                         struct kk_buf *err)
{
    enum kk_err rc = KK_OK;
    struct kk_buf answer, conf = KK_BUF_INIT, keylist = KK_BUF_INIT, file = KK_BUF_INIT;
    struct kk_pubkey keys[MAX_KEYS];
    char *keys_dir = NULL, *token_path = NULL;
    const char *token = NULL;
    cJSON *a = NULL;
    long status = 0;
    kk_buf_init(&answer, MAX_ANSWER);
    memset(res, 0, sizeof(*res));
    if (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8))
        return kk_fail(err, KK_ERR_INVALID,
                       "enrol: %s: the server URL must start with http://"
                       " or https://",
                       o->url);
    if (!*o->code || strlen(o->code) > 64)
        return kk_fail(err, KK_ERR_INVALID,
                       "enrol: the code must be the 12 characters"
                       " kepu-server kiosk enrol printed");
    if ((rc = post_code(o, &answer, &status, err)))
        goto done;
    a = cJSON_ParseWithLength(answer.data ? answer.data : "", answer.len);
    if (status != 200) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(a, "error");
        rc = kk_fail(err, status >= 400 && status < 500 ? KK_ERR_INVALID : KK_ERR_NET,
                     "enrol: the server refused (HTTP %ld): %s", status,
                     cJSON_IsString(m) ? m->valuestring : "no reason given");
        goto done;
    }
    if (!cJSON_IsObject(a)) {
        rc = kk_fail(err, KK_ERR_NET, "enrol: the server's answer is not JSON");
        goto done;
    }
    if ((rc = read_answer(a, res, &token, keys, err)))
        goto done;

    /* The token, readable by the kiosk's user only. */
    if ((rc = kk_mkdirs(o->state_dir, 0700, err)))
        goto done;
    if (!(token_path = kk_path_join(o->state_dir, "token")) || kk_buf_addf(&file, "%s\n", token)) {
        rc = kk_fail(err, KK_ERR_NOMEM, "enrol: out of memory");
        goto done;
    }
    if ((rc = kk_file_write_atomic_mode(token_path, file.data, file.len, 0600, err)))
        goto done;
    struct stat st;
    if (geteuid() == 0 && stat(o->state_dir, &st) == 0 && st.st_uid != 0 &&
        chown(token_path, st.st_uid, st.st_gid) < 0) {
        rc = kk_fail(err, KK_ERR_IO, "%s: chown: %s", token_path, strerror(errno));
        goto done;
    }

    /* The keys, then the config that points at all of it. */
    if (o->keys_dir) {
        keys_dir = kk_strdup(o->keys_dir);
    } else {
        char *d = dir_of(o->config_path);
        keys_dir = d ? kk_path_join(d, "keys") : NULL;
        kk_free(d);
    }
    if (!keys_dir) {
        rc = kk_fail(err, KK_ERR_NOMEM, "enrol: out of memory");
        goto done;
    }
    if ((rc = kk_mkdirs(keys_dir, 0755, err)))
        goto done;
    for (size_t i = 0; i < res->nkeys; i++) {
        char b64[sodium_base64_ENCODED_LEN(KK_PUBKEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof(b64), keys[i].key, KK_PUBKEY_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        kk_buf_reset(&file);
        size_t at = keylist.len;
        if (kk_buf_addf(&keylist, "%s%s/server-%zu.pub", i ? "," : "", keys_dir, i + 1) ||
            kk_buf_addf(&file, "%s\n%s\n", KK_PUBKEY_FILE_HEADER, b64)) {
            rc = kk_fail(err, KK_ERR_NOMEM, "enrol: out of memory");
            goto done;
        }
        const char *path = kk_buf_str(&keylist) + at + (i ? 1 : 0);
        if ((rc = kk_file_write_atomic(path, file.data, file.len, err)))
            goto done;
    }
    const char *const names[4] = {"kiosk_id", "server_url", "token_file", "trusted_keys"};
    const char *const values[4] = {res->kiosk_id, o->url, token_path, kk_buf_str(&keylist)};
    if ((rc = new_config(o->config_path, names, values, &conf, err)))
        goto done;
    mode_t mode = 0644;
    if (stat(o->config_path, &st) == 0)
        mode = st.st_mode & 07777;
    rc = kk_file_write_atomic_mode(o->config_path, conf.data, conf.len, mode, err);
done:
    if (answer.data)
        sodium_memzero(answer.data, answer.len);
    if (file.data)
        sodium_memzero(file.data, file.len);
    cJSON_Delete(a); /* holds the token too; cJSON frees without wiping, a known limit */
    kk_buf_release(&answer);
    kk_buf_release(&conf);
    kk_buf_release(&keylist);
    kk_buf_release(&file);
    kk_free(keys_dir);
    kk_free(token_path);
    return rc;
}
