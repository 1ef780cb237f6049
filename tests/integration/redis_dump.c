/* redis_dump.c — test helper: prints what the Redis sink wrote.
 *
 *   redis_dump HOST PORT PASSWORD DB PREFIX
 * prints, for each stream <PREFIX>:{alerts,dns,stats,tls} in stream order,
 * "stream<TAB>NAME<TAB>json" lines; for each member of <PREFIX>:devices (by
 * score), "device<TAB>MAC<TAB>score<TAB>last_seen<TAB>json" from the hash
 * <PREFIX>:device:<MAC>, then "fields<TAB>MAC<TAB>score<TAB>failing<TAB>
 * manufacturer<TAB>hostname<TAB>alerts" from the same hash (\N for a field
 * the hash lacks). Exit 1 with a message when Redis cannot be read.
 */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redisReply *cmd(redisContext *c, const char *fmt, ...);

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "redis_dump: %s\n", r ? r->str : c->errstr);
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	static const char *const streams[] = { "alerts", "dns", "stats", "tls" };
	struct timeval tv = { 5, 0 };
	redisContext *c;
	redisReply *r;

	if (argc != 6) {
		fprintf(stderr, "usage: redis_dump HOST PORT PASSWORD DB PREFIX\n");
		return 2;
	}
	c = redisConnectWithTimeout(argv[1], atoi(argv[2]), tv);
	if (c == NULL || c->err) {
		fprintf(stderr, "redis_dump: cannot connect: %s\n", c ? c->errstr : "?");
		return 1;
	}
	if (argv[3][0] != '\0')
		freeReplyObject(cmd(c, "AUTH %s", argv[3]));
	freeReplyObject(cmd(c, "SELECT %s", argv[4]));
	for (int s = 0; s < 4; s++) {
		char start[64] = "-";
		for (;;) {
			r = cmd(c, "XRANGE %s:%s %s + COUNT 10000", argv[5], streams[s], start);
			if (r->elements == 0) {
				freeReplyObject(r);
				break;
			}
			for (size_t i = 0; i < r->elements; i++) {
				redisReply *e = r->element[i];
				redisReply *f = e->element[1];
				printf("stream\t%s\t%s\n", streams[s], f->element[1]->str);
				if (i + 1 == r->elements)
					snprintf(start, sizeof(start), "(%s", e->element[0]->str);
			}
			freeReplyObject(r);
		}
	}
	r = cmd(c, "ZRANGE %s:devices 0 -1 WITHSCORES", argv[5]);
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const char *mac = r->element[i]->str;
		redisReply *h = cmd(c, "HMGET %s:device:%s last_seen event", argv[5], mac);
		printf("device\t%s\t%s\t%s\t%s\n", mac, r->element[i + 1]->str,
		       h->element[0]->str ? h->element[0]->str : "",
		       h->element[1]->str ? h->element[1]->str : "");
		freeReplyObject(h);
		h = cmd(c, "HMGET %s:device:%s score failing manufacturer hostname alerts",
			argv[5], mac);
		printf("fields\t%s", mac);
		for (size_t j = 0; j < h->elements; j++)
			printf("\t%s", h->element[j]->str ? h->element[j]->str : "\\N");
		printf("\n");
		freeReplyObject(h);
	}
	freeReplyObject(r);
	redisFree(c);
	return 0;
}
