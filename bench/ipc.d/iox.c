/* iox.c - the peer: Eclipse iceoryx 2.0 through its C binding, with the
 * iox-roudi daemon bench/ipc started. Two topics, service "ipcbench",
 * instance the client's pid, events "ping" (client -> server) and "pong".
 * Each side: iox_runtime_init after the fork (a runtime of its own), a
 * publisher and a subscriber. Sending: iox_pub_loan_chunk, write in place,
 * iox_pub_publish_chunk. Receiving: busy polling of iox_sub_take_chunk (no
 * waitset: the lowest latency iceoryx offers, at the price of a spinning
 * CPU), then iox_sub_release_chunk. Nothing is lost: the publishers wait
 * for a full subscriber queue (ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER with
 * QueueFullPolicy_BLOCK_PRODUCER). Throughput: one loan and one publish per
 * message (iceoryx has no batch publish), the queue at its most (256).
 *
 * Built only when bench/ipc finds the binding (IPCB_HAVE_IOX); else the
 * contender fails, saying so. */
#define _GNU_SOURCE
#include "ipcbench.h"

#ifndef IPCB_HAVE_IOX

int iox_latency(void)
{
    return ipcb_fail("iox: built without the iceoryx C binding (apt-get install libiceoryx-binding-c-dev iceoryx)");
}

int iox_throughput(void)
{
    return iox_latency();
}

#else

#include "iceoryx_binding_c/enums.h"
#include "iceoryx_binding_c/log.h"
#include "iceoryx_binding_c/publisher.h"
#include "iceoryx_binding_c/runtime.h"
#include "iceoryx_binding_c/subscriber.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define QUEUE 256 /* MAX_SUBSCRIBER_QUEUE_CAPACITY of iceoryx 2.0 */

struct side {
    iox_pub_storage_t pub_storage;
    iox_sub_storage_t sub_storage;
    iox_pub_t pub;
    iox_sub_t sub;
};

static pid_t client_pid; /* names the topics of this run */

/* A runtime named ipcb-ROLE-PID; publish on `out`, subscribe to `in`. */
static void side_init(struct side *s, const char *role, const char *out, const char *in)
{
    char name[64], instance[32];
    snprintf(name, sizeof name, "ipcb-%s-%d", role, (int)getpid());
    snprintf(instance, sizeof instance, "%d", (int)client_pid);
    iox_set_loglevel(Iceoryx_LogLevel_Warn);
    iox_runtime_init(name);
    iox_pub_options_t po;
    iox_pub_options_init(&po);
    po.historyCapacity = 0;
    po.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
    s->pub = iox_pub_init(&s->pub_storage, "ipcbench", instance, out, &po);
    iox_sub_options_t so;
    iox_sub_options_init(&so);
    so.queueCapacity = QUEUE;
    so.historyRequest = 0;
    so.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
    s->sub = iox_sub_init(&s->sub_storage, "ipcbench", instance, in, &so);
}

static void side_deinit(struct side *s)
{
    iox_sub_deinit(s->sub);
    iox_pub_deinit(s->pub);
    iox_runtime_shutdown();
}

/* Until our subscriber is connected and our publisher has one (10 s). */
static int side_connected(struct side *s, const char *who)
{
    for (int i = 0; i < 10000; i++) {
        if (iox_sub_get_subscription_state(s->sub) == SubscribeState_SUBSCRIBED && iox_pub_has_subscribers(s->pub))
            return 0;
        usleep(1000);
    }
    return ipcb_fail("iox %s: the peer did not connect within 10 s", who);
}

static int send_seq(struct side *s, const void *src, size_t len, const char *who)
{
    void *chunk;
    enum iox_AllocationResult a;
    while ((a = iox_pub_loan_chunk(s->pub, &chunk, (uint32_t)len)) != AllocationResult_SUCCESS) {
        if (a != AllocationResult_RUNNING_OUT_OF_CHUNKS)
            return ipcb_fail("iox %s: iox_pub_loan_chunk: result %d", who, (int)a);
        sched_yield();
    }
    memcpy(chunk, src, len);
    iox_pub_publish_chunk(s->pub, chunk);
    return 0;
}

/* Busy poll until a chunk comes (NULL on an error). */
static const void *take(struct side *s, const char *who)
{
    const void *chunk;
    for (;;) {
        enum iox_ChunkReceiveResult r = iox_sub_take_chunk(s->sub, &chunk);
        if (r == ChunkReceiveResult_SUCCESS)
            return chunk;
        if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
            ipcb_fail("iox %s: iox_sub_take_chunk: result %d", who, (int)r);
            return NULL;
        }
    }
}

static int echo_server(void *unused)
{
    (void)unused;
    struct side s;
    side_init(&s, "pong", "pong", "ping");
    int rc = side_connected(&s, "server");
    while (rc == 0) {
        const struct ipcb_msg *m = take(&s, "server");
        if (m == NULL) {
            rc = -1;
            break;
        }
        if (m->seq == IPCB_STOP) {
            iox_sub_release_chunk(s.sub, m);
            break;
        }
        rc = send_seq(&s, m, IPCB_MSG_BYTES, "server");
        iox_sub_release_chunk(s.sub, m);
    }
    side_deinit(&s);
    return rc;
}

static int iox_roundtrip(void *ctx, uint64_t seq)
{
    struct side *s = ctx;
    struct ipcb_msg m = {.seq = seq};
    if (send_seq(s, &m, sizeof m, "client") < 0)
        return -1;
    const struct ipcb_msg *reply = take(s, "client");
    if (reply == NULL)
        return -1;
    uint64_t got = reply->seq;
    iox_sub_release_chunk(s->sub, reply);
    if (got != seq)
        return ipcb_fail("iox client: sent %llu, got %llu back", (unsigned long long)seq, (unsigned long long)got);
    return 0;
}

int iox_latency(void)
{
    client_pid = getpid();
    pid_t pid = ipcb_fork(echo_server, NULL);
    if (pid < 0)
        return -1;
    struct side s;
    side_init(&s, "ping", "ping", "pong");
    int rc = side_connected(&s, "client");
    if (rc == 0)
        rc = ipcb_pingpong("iox", iox_roundtrip, &s);
    struct ipcb_msg stop = {.seq = IPCB_STOP};
    send_seq(&s, &stop, sizeof stop, "client");
    if (ipcb_reap(pid, "iox server") < 0)
        rc = -1;
    side_deinit(&s);
    return rc;
}

static int consumer(void *unused)
{
    (void)unused;
    struct side s;
    side_init(&s, "cons", "pong", "ping");
    int rc = side_connected(&s, "consumer");
    uint64_t expect = 1;
    while (rc == 0) {
        const struct ipcb_msg *m = take(&s, "consumer");
        if (m == NULL) {
            rc = -1;
            break;
        }
        uint64_t seq = m->seq;
        iox_sub_release_chunk(s.sub, m);
        if (seq == IPCB_STOP) {
            uint64_t count = expect - 1;
            rc = send_seq(&s, &count, sizeof count, "consumer");
            break;
        }
        if (seq != expect) {
            rc = ipcb_fail("iox consumer: message %llu where %llu was due", (unsigned long long)seq,
                           (unsigned long long)expect);
            break;
        }
        expect++;
    }
    side_deinit(&s);
    return rc;
}

int iox_throughput(void)
{
    client_pid = getpid();
    pid_t pid = ipcb_fork(consumer, NULL);
    if (pid < 0)
        return -1;
    struct side s;
    side_init(&s, "prod", "ping", "pong");
    int rc = side_connected(&s, "producer");
    uint64_t seq = 1, count = 0;
    uint64_t t0 = ipcb_now_ns();
    while (rc == 0) {
        for (int i = 0; i < ipcb.batch && rc == 0; i++, seq++) {
            void *chunk;
            enum iox_AllocationResult a = iox_pub_loan_chunk(s.pub, &chunk, IPCB_MSG_BYTES);
            if (a == AllocationResult_RUNNING_OUT_OF_CHUNKS) {
                sched_yield();
                i--, seq--;
                continue;
            }
            if (a != AllocationResult_SUCCESS) {
                rc = ipcb_fail("iox producer: iox_pub_loan_chunk: result %d", (int)a);
                break;
            }
            ((struct ipcb_msg *)chunk)->seq = seq;
            iox_pub_publish_chunk(s.pub, chunk);
        }
        if (ipcb_send_done(t0))
            break;
    }
    uint64_t sent = seq - 1;
    struct ipcb_msg stop = {.seq = IPCB_STOP};
    if (rc == 0 && send_seq(&s, &stop, sizeof stop, "producer") == 0) {
        const uint64_t *reply = take(&s, "producer");
        if (reply == NULL) {
            rc = -1;
        } else {
            count = *reply;
            iox_sub_release_chunk(s.sub, reply);
        }
    }
    uint64_t t1 = ipcb_now_ns();
    if (ipcb_reap(pid, "iox consumer") < 0)
        rc = -1;
    side_deinit(&s);
    if (rc < 0)
        return -1;
    if (count != sent)
        return ipcb_fail("iox: sent %llu messages, the consumer counted %llu", (unsigned long long)sent,
                         (unsigned long long)count);
    ipcb_report_rate("iox", count, t1 - t0, "one loan+publish per message (no batch API), queue 256");
    return 0;
}

#endif
