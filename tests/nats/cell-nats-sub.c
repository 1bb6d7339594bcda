/* cell-nats-sub.c - a real JetStream subscriber for the integration tests
 * (tests/integration/nats.bats, job_nats.bats): reads the stream CELL_EVENTS
 * (or STREAM) from its first message through an ephemeral pull consumer on
 * cell.events.> (or FILTER), prints one line per message,
 * "SUBJECT<TAB>Nats-Msg-Id<TAB>Content-Type<TAB>DATA", and exits once it has
 * caught up. Exit 0 (also for an empty stream), 1 when NATS or the stream
 * cannot be read (the reason on stderr).
 * Usage: cell-nats-sub URL [STREAM FILTER] */
#include <nats/nats.h>
#include <stdio.h>

static int fail(const char *what, natsStatus s)
{
    fprintf(stderr, "cell-nats-sub: %s: %s (%s)\n", what, natsStatus_GetText(s), nats_GetLastError(NULL));
    return 1;
}

static const char *header(natsMsg *m, const char *key)
{
    const char *v = NULL;
    return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? v : "-";
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: cell-nats-sub URL [STREAM FILTER]\n");
        return 2;
    }
    const char *stream = argc == 4 ? argv[2] : "CELL_EVENTS", *filter = argc == 4 ? argv[3] : "cell.events.>";
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    natsStatus s = natsConnection_ConnectTo(&nc, argv[1]);
    if (s != NATS_OK)
        return fail(argv[1], s);
    if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK)
        return fail("JetStream", s);
    if ((s = js_GetStreamInfo(&si, js, stream, NULL, NULL)) != NATS_OK)
        return fail(stream, s);
    uint64_t msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);

    int rc = 0;
    if (msgs > 0) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream;
        so.Config.DeliverPolicy = js_DeliverAll;
        so.Config.AckPolicy = js_AckExplicit;
        natsSubscription *sub = NULL;
        if ((s = js_PullSubscribe(&sub, js, filter, NULL, NULL, &so, NULL)) != NATS_OK)
            return fail("pull subscribe", s);
        uint64_t pending = 1;
        while (pending > 0 && rc == 0) {
            natsMsgList list = {0};
            if ((s = natsSubscription_Fetch(&list, sub, 256, 5000, NULL)) != NATS_OK) {
                rc = fail("fetch", s);
                break;
            }
            for (int i = 0; i < list.Count; i++) {
                natsMsg *m = list.Msgs[i];
                printf("%s\t%s\t%s\t%.*s\n", natsMsg_GetSubject(m), header(m, "Nats-Msg-Id"), header(m, "Content-Type"),
                       natsMsg_GetDataLength(m), natsMsg_GetData(m));
                jsMsgMetaData *meta = NULL;
                if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
                    pending = meta->NumPending;
                    jsMsgMetaData_Destroy(meta);
                }
                natsMsg_Ack(m, NULL);
            }
            natsMsgList_Destroy(&list);
        }
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return rc;
}
