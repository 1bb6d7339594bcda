/* jetstream.h - what cell's two NATS JetStream publishers share (celld's
 * --events-nats helper, src/celld/events_nats.c, and cell job run's,
 * src/cell-job-nats/main.c): a name as one subject token, a status as text,
 * and a stream made sure of. Built into those two programs only (libnats). */
#ifndef CELL_NATS_JETSTREAM_H
#define CELL_NATS_JETSTREAM_H

#include <nats/nats.h>
#include <stdbool.h>
#include <stddef.h>

/* `name` as one subject token into out (NUL-terminated): letters, digits,
 * '-' and '_' as they are, any other byte as "%XX" (a cell name's '.', the
 * token separator, is "%2E"; '%' itself is escaped, so a token maps back to
 * exactly one name). The length written, or 0 when out is too small (or
 * name is empty). */
size_t nats_subject_token(char *out, size_t size, const char *name);

/* "STATUS[: DETAIL]": libnats's text for s, and the detail of the last
 * error on this thread without its "(file.c:123): " in front. */
void nats_status_text(char *out, size_t size, natsStatus s);

/* The stream `name` with `subjects`: accepted as it is when present, created
 * (file storage) when missing; *created says which. NATS_OK, or what failed
 * (NATS_NO_RESPONDERS or NATS_TIMEOUT: most likely a server without
 * JetStream); *code is JetStream's error code when it gave one. */
natsStatus nats_stream_ensure(jsCtx *js, const char *name, const char *subjects, bool *created, jsErrCode *code);

#endif
