/* sink_kafka.c — the Kafka sink (librdkafka producer).
 *
 * One topic per dataset (<prefix>.alerts, .devices, .dns, .stats, .tls),
 * message key = the device (out_event.key, its MAC), so one device's events
 * stay in one partition, in order; value = the event JSON. The partitioner
 * is murmur2 (the Java client's), which also hashes the empty key of stats
 * events, so they too stay in order. The producer is
 * idempotent with acks=all, and messages never time out inside librdkafka
 * (message.timeout.ms = 0): while the brokers are away librdkafka keeps
 * them, in order, and retries; when its queue is full, produce says so and
 * the rest of the batch goes back to the queue, which spools it. Delivery
 * reports are counted per topic; `delivered` counts acknowledged messages.
 * On close, what librdkafka still holds after the stop deadline is purged
 * and handed back (out_sink_requeue), in the order it was produced, so the
 * next start sends it first. Every librdkafka property can be set from the
 * configuration (output.kafka.property.<name> = value); a property
 * librdkafka rejects is a start-up error naming the key.
 */
#include "output/sink.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

#define KAFKA_PROP_PREFIX "output.kafka.property."

/* How long a first metadata request may take at start to tell the user
 * that no broker answers (a warning; the sensor starts either way). */
#define KAFKA_PROBE_MS 1000

static const char *const kafka_topic_names[OUT_DS_MAX] = {
	"alerts", "devices", "dns", "stats", "tls"
};

/* A message librdkafka handed back on purge, kept until close requeues it. */
struct kafka_back {
	uint64_t seq;
	struct out_event ev;
};

struct kafka_sink {
	struct out_sink base;      /* first: the queue holds &base */
	rd_kafka_t *rk;
	rd_kafka_topic_t *topic[OUT_DS_MAX];
	char prefix[128];
	uint64_t seq;              /* produce order, carried as msg_opaque */
	uint64_t acked[OUT_DS_MAX];
	uint64_t failed[OUT_DS_MAX];
	int closing;
	struct kafka_back *back;   /* purged messages (close only) */
	size_t nback, capback;
	int err_logged;
};

static int kafka_ds_of(const struct kafka_sink *k, const rd_kafka_topic_t *t)
{
	for (int i = 0; i < OUT_DS_MAX; i++)
		if (k->topic[i] == t)
			return i;
	return OUT_DS_STATS;
}

/* Keeps a copy of a message that did not make it, for out_sink_requeue. */
static void kafka_keep(struct kafka_sink *k, const rd_kafka_message_t *m)
{
	struct kafka_back *b;

	if (k->nback == k->capback) {
		size_t n = k->capback ? k->capback * 2 : 1024;
		struct kafka_back *p = realloc(k->back, n * sizeof(*p));
		if (p == NULL) {
			k->base.dropped++;
			return;
		}
		k->back = p;
		k->capback = n;
	}
	b = &k->back[k->nback];
	memset(b, 0, sizeof(*b));
	b->seq = (uint64_t)(uintptr_t)m->_private;
	b->ev.dataset = (uint8_t)kafka_ds_of(k, m->rkt);
	if (m->key_len > 0 && m->key_len < sizeof(b->ev.key))
		memcpy(b->ev.key, m->key, m->key_len);
	b->ev.json = malloc(m->len + 1);
	if (b->ev.json == NULL) {
		k->base.dropped++;
		return;
	}
	memcpy(b->ev.json, m->payload, m->len);
	b->ev.json[m->len] = '\0';
	b->ev.len = m->len;
	k->nback++;
}

/* Delivery reports, served by rd_kafka_poll from the sink's thread. */
static void kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_sink *k = opaque;
	int ds = kafka_ds_of(k, m->rkt);

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->acked[ds]++;
		k->base.delivered++;
		return;
	}
	k->failed[ds]++;
	if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
	    m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
		k->base.errors++;
		if (!k->err_logged) {
			log_warn("%s: delivery failed: %s; the message is spooled again",
				 k->base.name, rd_kafka_err2str(m->err));
			k->err_logged = 1;
		}
		if (!k->closing) {
			struct out_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.dataset = (uint8_t)ds;
			if (m->key_len > 0 && m->key_len < sizeof(ev.key))
				memcpy(ev.key, m->key, m->key_len);
			ev.json = m->payload;
			ev.len = m->len;
			out_sink_requeue(&k->base, &ev, 1);
			return;
		}
	}
	kafka_keep(k, m);
}

static void kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *k = opaque;

	(void)rk;
	k->base.errors++;
	if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
		log_err("%s: authentication failed (%s); nothing is delivered until "
			"the credentials are fixed", k->base.name, reason);
	else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		log_warn("%s: all brokers down (%s); librdkafka keeps the events "
			 "and retries", k->base.name, reason);
	else
		log_debug("%s: %s", k->base.name, reason);
}

/* librdkafka's own log lines, as the sensor's messages instead of its raw
 * "%3|...|FAIL|..." on stderr. Its errors reach kafka_error as well (which
 * says what matters once), so its log is info and debug here. */
static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kafka_sink *k = rd_kafka_opaque(rk);
	const char *name = k != NULL ? k->base.name : "kafka";

	if (level <= 3)
		log_info("%s: librdkafka %s: %s", name, fac, buf);
	else
		log_debug("%s: librdkafka %s: %s", name, fac, buf);
}

static size_t kafka_write(struct out_sink *s, const struct out_event *ev, size_t n)
{
	struct kafka_sink *k = (struct kafka_sink *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct out_event *e = &ev[i];
		size_t klen = strnlen(e->key, sizeof(e->key));
		if (rd_kafka_produce(k->topic[e->dataset], RD_KAFKA_PARTITION_UA,
				     RD_KAFKA_MSG_F_COPY, e->json, e->len,
				     e->key, klen,
				     (void *)(uintptr_t)k->seq) != 0) {
			rd_kafka_resp_err_t err = rd_kafka_last_error();
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				s->errors++;
				log_warn("%s: produce: %s", s->name, rd_kafka_err2str(err));
			}
			break;
		}
		k->seq++;
	}
	rd_kafka_poll(k->rk, 0);
	return i;
}

static int kafka_flush(struct out_sink *s)
{
	struct kafka_sink *k = (struct kafka_sink *)s;

	rd_kafka_poll(k->rk, 0);
	return 0;
}

static int kafka_back_cmp(const void *a, const void *b)
{
	const struct kafka_back *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Waits for what is in flight until the deadline, then purges the rest and
 * gives it back to the queue in produce order. */
static void kafka_close(struct out_sink *s, uint64_t deadline_ms)
{
	struct kafka_sink *k = (struct kafka_sink *)s;
	uint64_t now = out_now_ms();
	int left;

	k->closing = 1;
	left = deadline_ms > now ? (int)(deadline_ms - now) : 0;
	rd_kafka_flush(k->rk, left);
	if (rd_kafka_outq_len(k->rk) > 0) {
		rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(k->rk, 0);
		rd_kafka_flush(k->rk, 100);
	}
	if (k->nback > 0) {
		/* One requeue call: the events keep their order in front of
		 * the spool (one call per event would put each in front of the
		 * last, reversing them). */
		struct out_event *evs = malloc(k->nback * sizeof(*evs));
		qsort(k->back, k->nback, sizeof(*k->back), kafka_back_cmp);
		if (evs != NULL) {
			for (size_t i = 0; i < k->nback; i++)
				evs[i] = k->back[i].ev;
			out_sink_requeue(s, evs, k->nback);
			free(evs);
		} else {
			s->dropped += k->nback;
		}
		log_info("%s: %zu messages not acknowledged by the deadline; "
			 "spooled for the next start", s->name, k->nback);
	}
	log_info("%s: acknowledged alerts=%llu devices=%llu dns=%llu stats=%llu "
		 "tls=%llu", s->name, (unsigned long long)k->acked[0],
		 (unsigned long long)k->acked[1], (unsigned long long)k->acked[2],
		 (unsigned long long)k->acked[3], (unsigned long long)k->acked[4]);
	for (size_t i = 0; i < k->nback; i++)
		free(k->back[i].ev.json);
	free(k->back);
	for (int i = 0; i < OUT_DS_MAX; i++)
		if (k->topic[i] != NULL)
			rd_kafka_topic_destroy(k->topic[i]);
	rd_kafka_destroy(k->rk);
	free(k);
}

static const struct out_sink_ops kafka_ops = {
	.kind = "kafka",
	.write = kafka_write,
	.flush = kafka_flush,
	.close = kafka_close,
	.counts_delivered = 1,
};

static int kafka_set(rd_kafka_conf_t *conf, const char *key, const char *name,
		     const char *value, char *err, size_t errlen)
{
	char why[256];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	return 0;
}

/* The sink's name in messages and stats: kafka://BROKERS/PREFIX whole when
 * it fits, else the first broker and how many more ("kafka://k1:9092+2/sw"),
 * never a list cut in the middle of an address. */
static void kafka_name(char *buf, size_t len, const struct kafka_url *u)
{
	size_t nb = 0, first = strcspn(u->brokers, ",");

	if ((size_t)snprintf(buf, len, "kafka://%s/%s", u->brokers, u->prefix) < len)
		return;
	for (const char *p = u->brokers; *p; p++)
		nb += *p == ',';
	if ((size_t)snprintf(buf, len, "kafka://%.*s+%zu/%.*s", (int)(first < 32 ? first : 32),
			     u->brokers, nb, 16, u->prefix) >= len || strlen(u->prefix) > 16)
		snprintf(buf, len, "kafka://%.*s+%zu/%.12s...", (int)(first < 32 ? first : 32),
			 u->brokers, nb, u->prefix);
}

/* sasl.password from output.kafka.sasl_password_file or the environment,
 * when no output.kafka.property.sasl.password gives it. */
static int kafka_secret(rd_kafka_conf_t *conf, const struct sw_config *cfg, char *err,
			size_t errlen)
{
	char pw[256];
	int rc;

	if (conf_extra_get(cfg, KAFKA_PROP_PREFIX "sasl.password") != NULL)
		return 0;
	rc = out_secret(cfg->kafka_sasl_password_file, "output.kafka.sasl_password_file",
			"STUBWATCH_KAFKA_SASL_PASSWORD", pw, sizeof(pw), err, errlen);
	if (rc <= 0)
		return rc;
	rc = kafka_set(conf, "output.kafka.sasl_password_file", "sasl.password", pw, err,
		       errlen);
	memset(pw, 0, sizeof(pw));
	return rc;
}

struct out_sink *out_kafka_sink(const struct kafka_url *u, const struct sw_config *cfg,
				char *err, size_t errlen)
{
	struct kafka_sink *k;
	rd_kafka_conf_t *conf;
	char why[512];

	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(k->prefix, sizeof(k->prefix), "%s", u->prefix);
	k->base.ops = &kafka_ops;
	k->base.priv = k;
	kafka_name(k->base.name, sizeof(k->base.name), u);
	conf = rd_kafka_conf_new();
	/* Ours first, so a property from the configuration overrides them. */
	if (kafka_set(conf, "output.kafka.brokers", "bootstrap.servers", u->brokers, err,
		      errlen) != 0 ||
	    kafka_set(conf, "enable.idempotence", "enable.idempotence", "true", err,
		      errlen) != 0 ||
	    kafka_set(conf, "acks", "acks", "all", err, errlen) != 0 ||
	    kafka_set(conf, "output.kafka.compression", "compression.type",
		      conf_compression_names[cfg->kafka_compression], err, errlen) != 0 ||
	    kafka_set(conf, "message.timeout.ms", "message.timeout.ms", "0", err,
		      errlen) != 0 ||
	    kafka_set(conf, "linger.ms", "linger.ms", "5", err, errlen) != 0 ||
	    kafka_set(conf, "partitioner", "partitioner", "murmur2_random", err, errlen) != 0 ||
	    kafka_set(conf, "reconnect.backoff.max.ms", "reconnect.backoff.max.ms", "1000",
		      err, errlen) != 0)
		goto fail_conf;
	for (unsigned i = 0; i < cfg->nextra; i++) {
		const char *key = cfg->extra[i].key;
		if (strncmp(key, KAFKA_PROP_PREFIX, strlen(KAFKA_PROP_PREFIX)) != 0)
			continue;
		if (kafka_set(conf, key, key + strlen(KAFKA_PROP_PREFIX),
			      cfg->extra[i].value, err, errlen) != 0)
			goto fail_conf;
	}
	if (kafka_secret(conf, cfg, err, errlen) != 0)
		goto fail_conf;
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr);
	rd_kafka_conf_set_error_cb(conf, kafka_error);
	rd_kafka_conf_set_opaque(conf, k);
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (k->rk == NULL) {
		snprintf(err, errlen, "Kafka producer: %s", why);
		goto fail_conf;
	}
	for (int i = 0; i < OUT_DS_MAX; i++) {
		char name[160];
		snprintf(name, sizeof(name), "%s.%s", u->prefix, kafka_topic_names[i]);
		k->topic[i] = rd_kafka_topic_new(k->rk, name, NULL);
		if (k->topic[i] == NULL) {
			snprintf(err, errlen, "Kafka topic %s: %s", name,
				 rd_kafka_err2str(rd_kafka_last_error()));
			goto fail;
		}
	}
	const struct rd_kafka_metadata *md = NULL;
	if (rd_kafka_metadata(k->rk, 0, NULL, &md, KAFKA_PROBE_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warn("%s: no broker answers yet; events wait in librdkafka and "
			 "the spool until one does", k->base.name);
	else
		rd_kafka_metadata_destroy(md);
	return &k->base;
fail_conf:
	if (k->rk == NULL)
		rd_kafka_conf_destroy(conf);
fail:
	for (int i = 0; i < OUT_DS_MAX; i++)
		if (k->topic[i] != NULL)
			rd_kafka_topic_destroy(k->topic[i]);
	if (k->rk != NULL)
		rd_kafka_destroy(k->rk);
	free(k);
	return NULL;
}
