/*
 * ipvsadm-capture: an LD_PRELOAD shim that lets an unmodified ipvsadm
 * (built with libnl) run on a host without IPVS and records every generic
 * netlink request it sends, so lvsctl's encoder can be compared byte for
 * byte with libipvs. It fakes the kernel side of NETLINK_GENERIC sockets:
 * the "IPVS" family resolves to id 0x23, GET_INFO answers v1.2.1 with a
 * 4096-entry table, dumps are empty and every other request is acked.
 *
 *   cc -shared -fPIC -o /tmp/capture.so ipvsadm-capture.c
 *   CAPTURE_OUT=/tmp/req.hex LD_PRELOAD=/tmp/capture.so ipvsadm -A -t 10.0.0.1:80 -s rr
 *
 * Each request is written to CAPTURE_OUT as one line of hex (the whole
 * netlink message, nlmsghdr included). Nothing reaches the kernel.
 *
 * It can also play a canned kernel, so that ipvsadm's listing of a given
 * table can be captured (ipvs/ipvsadm's golden tests):
 *
 *   IPVSADM_REPLIES=FILE  lines "CMD MATCH PAYLOAD": CMD is a generic netlink
 *                         command (decimal), MATCH the hex of the request's
 *                         attributes (everything after the genl header) or
 *                         "-" for any, PAYLOAD the hex of one reply's
 *                         attributes. A dump request is answered with every
 *                         matching line, then NLMSG_DONE; any other request
 *                         with the first matching line, or ESRCH if none.
 *   IPVSADM_CONN=FILE     read instead of /proc/net/ip_vs_conn.
 *   IPVSADM_HOSTS=FILE    lines "ADDRESS NAME": the only answers
 *                         gethostbyaddr and gethostbyname give (no DNS).
 *   IPVSADM_SERVICES=FILE a services(5) file read by getservbyport and
 *                         getservbyname instead of the system's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>

#define FAKE_IPVS_ID 0x23
#define MAXFD 1024
#define QLEN 4096
#define DGRAM_MAX 8192

struct dgram { size_t len; unsigned char *buf; };
struct fake { int on; struct dgram q[QLEN]; int head, tail; };
static struct fake fakes[MAXFD];

static int isfake(int fd) { return fd >= 0 && fd < MAXFD && fakes[fd].on; }

int socket(int domain, int type, int proto)
{
	static int (*real)(int, int, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "socket");
	if (domain == AF_NETLINK && proto == NETLINK_GENERIC) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
			return -1;
		close(sv[1]);
		if (sv[0] >= MAXFD) { errno = EMFILE; return -1; }
		memset(&fakes[sv[0]], 0, sizeof(fakes[0]));
		fakes[sv[0]].on = 1;
		return sv[0];
	}
	return real(domain, type, proto);
}

int close(int fd)
{
	static int (*real)(int);
	if (!real)
		real = dlsym(RTLD_NEXT, "close");
	if (isfake(fd))
		fakes[fd].on = 0;
	return real(fd);
}

int bind(int fd, const struct sockaddr *a, socklen_t l)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "bind");
	return isfake(fd) ? 0 : real(fd, a, l);
}

int setsockopt(int fd, int lvl, int opt, const void *v, socklen_t l)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "setsockopt");
	return isfake(fd) ? 0 : real(fd, lvl, opt, v, l);
}

int getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	if (!real)
		real = dlsym(RTLD_NEXT, "getsockname");
	if (!isfake(fd))
		return real(fd, a, l);
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK, .nl_pid = 4242 };
	memcpy(a, &nl, sizeof(nl));
	*l = sizeof(nl);
	return 0;
}

static void put(struct fake *f, const void *b, size_t n)
{
	struct dgram *d = &f->q[f->tail++ % QLEN];
	free(d->buf);
	d->buf = malloc(n);
	memcpy(d->buf, b, n);
	d->len = n;
}

static size_t msg(unsigned char *out, uint16_t type, uint16_t flags, uint32_t seq,
		  uint8_t cmd, const void *attrs, size_t alen)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + alen,
			      .nlmsg_type = type, .nlmsg_flags = flags,
			      .nlmsg_seq = seq, .nlmsg_pid = 4242 };
	struct genlmsghdr g = { .cmd = cmd, .version = 1 };
	memcpy(out, &h, sizeof(h));
	memcpy(out + NLMSG_HDRLEN, &g, sizeof(g));
	memcpy(out + NLMSG_HDRLEN + GENL_HDRLEN, attrs, alen);
	return NLMSG_ALIGN(h.nlmsg_len);
}

static size_t attr(unsigned char *p, uint16_t type, const void *v, uint16_t n)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + n, .nla_type = type };
	memset(p, 0, NLA_ALIGN(a.nla_len));
	memcpy(p, &a, sizeof(a));
	memcpy(p + NLA_HDRLEN, v, n);
	return NLA_ALIGN(a.nla_len);
}

static int unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int v;
	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &v) == 1) {
		out[n++] = v;
		h += 2;
	}
	return n;
}

/* canned appends the IPVSADM_REPLIES lines for cmd that match the request's
 * attributes and returns how many it queued (at most one unless dump). */
static int canned(struct fake *f, const struct nlmsghdr *req, uint8_t cmd, int dump)
{
	const char *path = getenv("IPVSADM_REPLIES");
	if (!path)
		return -1;
	FILE *in = fopen(path, "r");
	if (!in)
		return -1;
	size_t alen = req->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	const unsigned char *attrs = (const unsigned char *)NLMSG_DATA(req) + GENL_HDRLEN;
	char want[2 * 4096 + 1] = "";
	for (size_t i = 0; i < alen && i < 4096; i++)
		sprintf(want + 2 * i, "%02x", attrs[i]);
	static char line[2 * DGRAM_MAX + 64];
	int count = 0;
	while (fgets(line, sizeof(line), in)) {
		unsigned int c;
		char match[2 * 4096 + 1], payload[2 * DGRAM_MAX + 1];
		if (sscanf(line, "%u %8192s %16384s", &c, match, payload) != 3 || c != cmd)
			continue;
		if (strcmp(match, "-") && strcmp(match, want))
			continue;
		static unsigned char a[DGRAM_MAX], out[DGRAM_MAX + 64];
		int n = unhex(payload, a, sizeof(a));
		put(f, out, msg(out, FAKE_IPVS_ID, dump ? NLM_F_MULTI : 0, req->nlmsg_seq, cmd, a, n));
		count++;
		if (!dump)
			break;
	}
	fclose(in);
	return count;
}

static void error_reply(struct fake *f, const struct nlmsghdr *req, int errnum)
{
	unsigned char out[512];
	struct nlmsghdr e = { .nlmsg_len = NLMSG_HDRLEN + sizeof(struct nlmsgerr),
			      .nlmsg_type = NLMSG_ERROR, .nlmsg_flags = NLM_F_CAPPED,
			      .nlmsg_seq = req->nlmsg_seq, .nlmsg_pid = 4242 };
	struct nlmsgerr err = { .error = -errnum, .msg = *req };
	memcpy(out, &e, sizeof(e));
	memcpy(out + NLMSG_HDRLEN, &err, sizeof(err));
	put(f, out, e.nlmsg_len);
}

/* msg appends one netlink message with a genl header and raw attributes. */
static void answer(struct fake *f, const struct nlmsghdr *req)
{
	const struct genlmsghdr *g = NLMSG_DATA(req);
	unsigned char out[512], a[128];
	size_t n = 0;
	int dump = req->nlmsg_flags & NLM_F_DUMP;

	if (req->nlmsg_type == GENL_ID_CTRL && g->cmd == CTRL_CMD_GETFAMILY) {
		uint16_t id = FAKE_IPVS_ID;
		uint32_t ver = 1, hdr = 0, max = 6;
		n += attr(a + n, CTRL_ATTR_FAMILY_ID, &id, 2);
		n += attr(a + n, CTRL_ATTR_FAMILY_NAME, "IPVS", 5);
		n += attr(a + n, CTRL_ATTR_VERSION, &ver, 4);
		n += attr(a + n, CTRL_ATTR_HDRSIZE, &hdr, 4);
		n += attr(a + n, CTRL_ATTR_MAXATTR, &max, 4);
		put(f, out, msg(out, GENL_ID_CTRL, 0, req->nlmsg_seq, CTRL_CMD_NEWFAMILY, a, n));
	} else if (req->nlmsg_type == FAKE_IPVS_ID && g->cmd == 15 /* GET_INFO */) {
		uint32_t ver = 0x010201, size = 4096;
		n += attr(a + n, 1, &ver, 4);
		n += attr(a + n, 2, &size, 4);
		put(f, out, msg(out, FAKE_IPVS_ID, 0, req->nlmsg_seq, 14 /* SET_INFO */, a, n));
	} else if (req->nlmsg_type == FAKE_IPVS_ID) {
		int queued = canned(f, req, g->cmd, dump);
		if (queued == 0 && !dump) {
			error_reply(f, req, ESRCH);
			return;
		}
	}
	if (dump) {
		struct nlmsghdr d = { .nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_DONE,
				      .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = req->nlmsg_seq,
				      .nlmsg_pid = 4242 };
		memset(out, 0, sizeof(out));
		memcpy(out, &d, sizeof(d));
		put(f, out, d.nlmsg_len);
	}
	if (req->nlmsg_flags & NLM_F_ACK) {
		struct nlmsghdr e = { .nlmsg_len = NLMSG_HDRLEN + sizeof(struct nlmsgerr),
				      .nlmsg_type = NLMSG_ERROR, .nlmsg_flags = NLM_F_CAPPED,
				      .nlmsg_seq = req->nlmsg_seq, .nlmsg_pid = 4242 };
		struct nlmsgerr err = { .error = 0, .msg = *req };
		memcpy(out, &e, sizeof(e));
		memcpy(out + NLMSG_HDRLEN, &err, sizeof(err));
		put(f, out, e.nlmsg_len);
	}
}

static ssize_t capture(int fd, const unsigned char *b, size_t n)
{
	const char *path = getenv("CAPTURE_OUT");
	FILE *o = path ? fopen(path, "a") : stderr;
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%02x", b[i]);
	fprintf(o, "\n");
	if (o != stderr)
		fclose(o);
	answer(&fakes[fd], (const struct nlmsghdr *)b);
	return n;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, const struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendmsg");
	if (!isfake(fd))
		return real(fd, m, flags);
	unsigned char b[4096];
	size_t n = 0;
	for (size_t i = 0; i < m->msg_iovlen; i++) {
		memcpy(b + n, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
		n += m->msg_iov[i].iov_len;
	}
	return capture(fd, b, n);
}

ssize_t sendto(int fd, const void *b, size_t n, int flags, const struct sockaddr *a, socklen_t l)
{
	static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	return isfake(fd) ? capture(fd, b, n) : real(fd, b, n, flags, a, l);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "recvmsg");
	if (!isfake(fd))
		return real(fd, m, flags);
	struct fake *f = &fakes[fd];
	if (f->head == f->tail) {
		errno = EAGAIN;
		return -1;
	}
	struct dgram *d = &f->q[f->head % QLEN];
	size_t room = m->msg_iov[0].iov_len, n = d->len < room ? d->len : room;
	memcpy(m->msg_iov[0].iov_base, d->buf, n);
	if (m->msg_name) {
		struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
		memcpy(m->msg_name, &nl, sizeof(nl));
		m->msg_namelen = sizeof(nl);
	}
	m->msg_controllen = 0;
	m->msg_flags = d->len > room ? MSG_TRUNC : 0;
	if (!(flags & MSG_PEEK))
		f->head++;
	return (flags & MSG_TRUNC) ? (ssize_t)d->len : (ssize_t)n;
}

/* The connection table, for ipvsadm -Lc. */
static const char *conn_path(const char *path)
{
	const char *alt = getenv("IPVSADM_CONN");
	return (alt && !strcmp(path, "/proc/net/ip_vs_conn")) ? alt : path;
}

FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);
	if (!real)
		real = dlsym(RTLD_NEXT, "fopen");
	return real(conn_path(path), mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);
	if (!real)
		real = dlsym(RTLD_NEXT, "fopen64");
	return real(conn_path(path), mode);
}

/* hosts_lookup finds a line of IPVSADM_HOSTS by address (name == NULL) or
 * by name, and fills a static hostent. */
static struct hostent *hosts_lookup(const void *addr, socklen_t len, int af, const char *name)
{
	static struct hostent h;
	static char hname[256], *aliases[1], *addrs[2];
	static unsigned char abuf[16];
	FILE *in = fopen(getenv("IPVSADM_HOSTS"), "r");
	char line[512], a[128], n[256];
	if (!in)
		return NULL;
	while (fgets(line, sizeof(line), in)) {
		unsigned char bin[16];
		int family = strchr(line, ':') ? AF_INET6 : AF_INET;
		if (sscanf(line, "%127s %255s", a, n) != 2 || inet_pton(family, a, bin) != 1)
			continue;
		int alen = family == AF_INET ? 4 : 16;
		if (name ? strcmp(name, n) != 0 || family != AF_INET
			 : family != af || (socklen_t)alen != len || memcmp(bin, addr, alen) != 0)
			continue;
		fclose(in);
		snprintf(hname, sizeof(hname), "%s", n);
		memcpy(abuf, bin, alen);
		aliases[0] = NULL;
		addrs[0] = (char *)abuf;
		addrs[1] = NULL;
		h.h_name = hname;
		h.h_aliases = aliases;
		h.h_addrtype = family;
		h.h_length = alen;
		h.h_addr_list = addrs;
		return &h;
	}
	fclose(in);
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

struct hostent *gethostbyaddr(const void *addr, socklen_t len, int type)
{
	static struct hostent *(*real)(const void *, socklen_t, int);
	if (!real)
		real = dlsym(RTLD_NEXT, "gethostbyaddr");
	if (!getenv("IPVSADM_HOSTS"))
		return real(addr, len, type);
	return hosts_lookup(addr, len, type, NULL);
}

struct hostent *gethostbyname(const char *name)
{
	static struct hostent *(*real)(const char *);
	if (!real)
		real = dlsym(RTLD_NEXT, "gethostbyname");
	if (!getenv("IPVSADM_HOSTS"))
		return real(name);
	return hosts_lookup(NULL, 0, AF_INET, name);
}

/* services_lookup scans IPVSADM_SERVICES for a port (name == NULL) or a
 * name or alias, with protocol proto, as nss_files does: first match. */
static struct servent *services_lookup(int port, const char *name, const char *proto)
{
	static struct servent se;
	static char line[512], *aliases[16];
	FILE *in = fopen(getenv("IPVSADM_SERVICES"), "r");
	if (!in)
		return NULL;
	while (fgets(line, sizeof(line), in)) {
		char *hash = strchr(line, '#'), *save, *f, *pp;
		if (hash)
			*hash = '\0';
		char *sname = strtok_r(line, " \t\n", &save), *portproto = strtok_r(NULL, " \t\n", &save);
		if (!sname || !portproto || !(pp = strchr(portproto, '/')))
			continue;
		*pp++ = '\0';
		int n = 0, match = name ? !strcmp(name, sname) : atoi(portproto) == port;
		while ((f = strtok_r(NULL, " \t\n", &save)) && n < 15) {
			aliases[n++] = f;
			if (name && !strcmp(name, f))
				match = 1;
		}
		aliases[n] = NULL;
		if (!match || (proto && strcmp(proto, pp)))
			continue;
		fclose(in);
		se.s_name = sname;
		se.s_aliases = aliases;
		se.s_port = htons(atoi(portproto));
		se.s_proto = pp;
		return &se;
	}
	fclose(in);
	return NULL;
}

struct servent *getservbyport(int port, const char *proto)
{
	static struct servent *(*real)(int, const char *);
	if (!real)
		real = dlsym(RTLD_NEXT, "getservbyport");
	if (!getenv("IPVSADM_SERVICES"))
		return real(port, proto);
	return services_lookup(ntohs(port), NULL, proto);
}

struct servent *getservbyname(const char *name, const char *proto)
{
	static struct servent *(*real)(const char *, const char *);
	if (!real)
		real = dlsym(RTLD_NEXT, "getservbyname");
	if (!getenv("IPVSADM_SERVICES"))
		return real(name, proto);
	return services_lookup(0, name, proto);
}
