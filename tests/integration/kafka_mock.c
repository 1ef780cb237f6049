/* kafka_mock.c — test helper: librdkafka's mock Kafka cluster, and a
 * consumer that dumps what a cluster holds.
 *
 *   kafka_mock serve PREFIX
 *       Starts a 3-broker mock cluster with the five topics <PREFIX>.alerts,
 *       .devices, .dns, .stats, .tls (3 partitions each), prints its
 *       bootstrap address on the first line of stdout, then reads commands
 *       on stdin until EOF or "quit":
 *         down          take every broker down     up      bring them back
 *         down N / up N one broker (1..3)
 *         err N CODE    the next N Produce requests fail with error CODE
 *       Each command is answered with "ok" on stdout.
 *   kafka_mock consume BOOTSTRAP PREFIX
 *       Reads every partition of the five topics from the beginning to the
 *       end and prints "topic<TAB>partition<TAB>offset<TAB>key<TAB>value"
 *       lines. Exit 0, or 1 with a message when the cluster cannot be read.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTOPIC 5
#define NPART 3
#define NBROKER 3
/* Kafka protocol ApiKey of Produce (rdkafka_mock.h takes the number). */
#define KAFKA_API_PRODUCE 0

static const char *const topics[NTOPIC] = { "alerts", "devices", "dns", "stats", "tls" };

static int serve(const char *prefix)
{
	char errstr[512], line[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;

	rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, NBROKER);
	if (mc == NULL) {
		fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
		return 1;
	}
	for (int i = 0; i < NTOPIC; i++) {
		char t[256];
		snprintf(t, sizeof(t), "%s.%s", prefix, topics[i]);
		if (rd_kafka_mock_topic_create(mc, t, NPART, NBROKER) != 0) {
			fprintf(stderr, "kafka_mock: cannot create topic %s\n", t);
			return 1;
		}
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int n = 0, code = 0;
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (sscanf(line, "down %d", &n) == 1) {
			rd_kafka_mock_broker_set_down(mc, n);
		} else if (strncmp(line, "down", 4) == 0) {
			for (int b = 1; b <= NBROKER; b++)
				rd_kafka_mock_broker_set_down(mc, b);
		} else if (sscanf(line, "up %d", &n) == 1) {
			rd_kafka_mock_broker_set_up(mc, n);
		} else if (strncmp(line, "up", 2) == 0) {
			for (int b = 1; b <= NBROKER; b++)
				rd_kafka_mock_broker_set_up(mc, b);
		} else if (sscanf(line, "err %d %d", &n, &code) == 2) {
			for (int i = 0; i < n; i++)
				rd_kafka_mock_push_request_errors(mc, KAFKA_API_PRODUCE, 1,
								  (rd_kafka_resp_err_t)code);
		} else {
			printf("unknown command\n");
			fflush(stdout);
			continue;
		}
		printf("ok\n");
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}

static void print_escaped(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\t' || p[i] == '\n')
			putchar(' ');
		else
			putchar(p[i]);
	}
}

static int consume(const char *bootstrap, const char *prefix)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *parts;
	int eofs = 0, idle = 0;
	long long first[NTOPIC * NPART];

	for (int i = 0; i < NTOPIC * NPART; i++)
		first[i] = -1;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "group.id", "stubwatch-test", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr))) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_poll_set_consumer(rk);
	parts = rd_kafka_topic_partition_list_new(NTOPIC * NPART);
	for (int i = 0; i < NTOPIC; i++) {
		char t[256];
		snprintf(t, sizeof(t), "%s.%s", prefix, topics[i]);
		for (int p = 0; p < NPART; p++)
			rd_kafka_topic_partition_list_add(parts, t, p)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
	}
	if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "kafka_mock: assign failed\n");
		return 1;
	}
	while (eofs < NTOPIC * NPART) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
		if (m == NULL) {
			if (++idle > 60) {
				fprintf(stderr, "kafka_mock: no progress for 30 s (%d of %d "
					"partitions read to the end)\n", eofs, NTOPIC * NPART);
				return 1;
			}
			continue;
		}
		idle = 0;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
		} else if (m->err) {
			fprintf(stderr, "kafka_mock: consume: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			return 1;
		} else {
			const char *tn = rd_kafka_topic_name(m->rkt);
			for (int i = 0; i < NTOPIC; i++) {
				size_t pl = strlen(prefix);
				if (strncmp(tn, prefix, pl) == 0 && strcmp(tn + pl + 1, topics[i]) == 0 &&
				    m->partition >= 0 && m->partition < NPART &&
				    first[i * NPART + m->partition] < 0)
					first[i * NPART + m->partition] = (long long)m->offset;
			}
			printf("%s\t%d\t%lld\t", rd_kafka_topic_name(m->rkt), (int)m->partition,
			       (long long)m->offset);
			print_escaped(m->key ? m->key : "", m->key_len);
			putchar('\t');
			print_escaped(m->payload, m->len);
			putchar('\n');
		}
		rd_kafka_message_destroy(m);
	}
	/* The mock cluster keeps a bounded log per partition and drops the
	 * oldest messages past it: a test that wrote more cannot tell loss
	 * from retention, so that is an error of the test. */
	for (int i = 0; i < NTOPIC * NPART; i++) {
		if (first[i] > 0) {
			fprintf(stderr, "kafka_mock: %s.%s partition %d starts at offset %lld: "
				"the mock cluster's retention dropped messages; use a smaller "
				"capture\n", prefix, topics[i / NPART], i % NPART, first[i]);
			return 1;
		}
	}
	rd_kafka_topic_partition_list_destroy(parts);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2]);
	if (argc == 4 && strcmp(argv[1], "consume") == 0)
		return consume(argv[2], argv[3]);
	fprintf(stderr, "usage: kafka_mock serve PREFIX | consume BOOTSTRAP PREFIX\n");
	return 2;
}
