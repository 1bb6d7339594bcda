/* jetstream.c - what cell's NATS JetStream publishers share: subject tokens,
 * status texts, making sure of a stream (see jetstream.h). */
#include "jetstream.h"

#include <stdio.h>
#include <string.h>

size_t nats_subject_token(char *out, size_t size, const char *name)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        bool plain =
            (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
        if (n + (plain ? 1 : 3) >= size)
            return 0;
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    if (n == 0 || n >= size)
        return 0;
    out[n] = '\0';
    return n;
}

void nats_status_text(char *out, size_t size, natsStatus s)
{
    const char *text = natsStatus_GetText(s), *detail = nats_GetLastError(NULL);
    if (detail && detail[0] == '(' && strstr(detail, "): "))
        detail = strstr(detail, "): ") + 3;
    if (detail == NULL || strcmp(detail, text) == 0)
        detail = "";
    snprintf(out, size, "%s%s%s", text, *detail ? ": " : "", detail);
}

natsStatus nats_stream_ensure(jsCtx *js, const char *name, const char *subjects, bool *created, jsErrCode *code)
{
    jsStreamInfo *si = NULL;
    *created = false;
    *code = 0;
    natsStatus s = js_GetStreamInfo(&si, js, name, NULL, code);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return NATS_OK;
    }
    if (s != NATS_NOT_FOUND && *code != JSStreamNotFoundErr)
        return s;
    jsStreamConfig cfg;
    const char *list[] = {subjects};
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    cfg.Subjects = list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    *code = 0;
    s = js_AddStream(&si, js, &cfg, NULL, code);
    jsStreamInfo_Destroy(si);                            /* NULL when it failed */
    if (s == NATS_OK || *code == JSStreamNameExistErr) { /* or another publisher made it just now */
        *created = true;
        return NATS_OK;
    }
    return s;
}
