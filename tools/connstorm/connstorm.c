/*
 * connstorm: opens N MQTT connections as fast as a broker takes them and measures CONNECT to
 * CONNACK. One thread, one epoll loop, non-blocking sockets, at most --concurrency handshakes in
 * flight: a generator whose own cost per connection is a few microseconds, so a broker's connect
 * rate (Junction, mosquitto) is measured rather than the generator's (junction bench runs its
 * clients in Node.js and tops out near 4,000 connections a second on one core).
 *
 *   connstorm --port 1883 --connections 10000 [--host 127.0.0.1] [--concurrency 64]
 *             [--protocol 4|5] [--hold SECONDS] [--source-addresses A,B,...] [--json FILE]
 *             [--broker-pid PID]
 *
 * --broker-pid also reports the broker's CPU time over the storm (every thread's run time from
 * /proc/PID/task/<tid>/schedstat, kernel work done in its system calls included): a broker
 * that answers at the generator's pace shows it as CPU left over, not as a lower rate.
 *
 * Connections are held (idle, keep-alive 0) until every one is answered, then for --hold
 * seconds, then closed. A progress line goes to stderr every second; the summary to stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 64

enum state { IDLE, CONNECTING, WAITING, DONE, FAILED };

struct conn {
  int fd;
  enum state state;
  uint64_t started_ns;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char *why) {
  if (why) fprintf(stderr, "connstorm: %s\n", why);
  fprintf(stderr,
          "usage: connstorm --port N --connections N [--host 127.0.0.1] [--concurrency 64]\n"
          "                 [--protocol 4|5] [--hold SECONDS] [--source-addresses A,B,...] [--json FILE]\n"
          "                 [--broker-pid PID]\n"
          "Opens N MQTT connections (CONNECT, clean start, keep-alive 0) with at most --concurrency\n"
          "handshakes in flight, measures CONNECT to CONNACK, holds them --hold seconds, closes them.\n"
          "--broker-pid: also the broker's CPU time (all threads) per connection over the storm.\n");
  exit(why ? 2 : 0);
}

static size_t connect_packet(unsigned char *out, int protocol, const char *client_id) {
  size_t id_len = strlen(client_id);
  unsigned char body[256];
  size_t n = 0;
  body[n++] = 0;
  body[n++] = 4;
  memcpy(body + n, "MQTT", 4);
  n += 4;
  body[n++] = (unsigned char)protocol;
  body[n++] = 0x02; /* clean session / clean start */
  body[n++] = 0;    /* keep-alive 0: idle connections are never timed out */
  body[n++] = 0;
  if (protocol == 5) body[n++] = 0; /* no properties */
  body[n++] = (unsigned char)(id_len >> 8);
  body[n++] = (unsigned char)(id_len & 0xff);
  memcpy(body + n, client_id, id_len);
  n += id_len;
  out[0] = 0x10;
  out[1] = (unsigned char)n; /* below 128 bytes: one length byte */
  memcpy(out + 2, body, n);
  return n + 2;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Nanoseconds every thread of `pid` has run (first field of each task's schedstat); -1 if unreadable. */
static int64_t cpu_ns_of(long pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR *dir = opendir(path);
  if (!dir) return -1;
  int64_t total = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    if (e->d_name[0] == '.') continue;
    char file[320];
    snprintf(file, sizeof file, "/proc/%ld/task/%s/schedstat", pid, e->d_name);
    FILE *f = fopen(file, "r");
    if (!f) continue; /* a thread that ended meanwhile */
    long long ns = 0;
    if (fscanf(f, "%lld", &ns) == 1) total += ns;
    fclose(f);
  }
  closedir(dir);
  return total;
}

/* User and system CPU of the whole process `pid`, in clock ticks (/proc/PID/stat fields 14 and 15). */
static void ticks_of(long pid, long long *user, long long *sys) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  *user = *sys = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* The command name may hold spaces: fields count from after its closing parenthesis. */
  char *p = strrchr(buf, ')');
  if (!p) return;
  long long field[16] = {0};
  int i = 3;
  for (char *tok = strtok(p + 1, " "); tok && i <= 15; tok = strtok(NULL, " "), i++) field[i] = atoll(tok);
  *user = field[14];
  *sys = field[15];
}

/* Set by SIGTERM or SIGINT during the hold: the connections are then reset as at its end. */
static volatile sig_atomic_t stop_holding = 0;
static void on_stop(int sig) {
  (void)sig;
  stop_holding = 1;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *json = NULL, *sources_arg = NULL;
  long port = -1, count = -1, concurrency = 64, protocol = 4, hold = 0, broker_pid = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage(NULL);
    if (i + 1 >= argc) usage("every option takes a value");
    const char *v = argv[++i];
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = strtol(v, NULL, 10);
    else if (!strcmp(a, "--connections")) count = strtol(v, NULL, 10);
    else if (!strcmp(a, "--concurrency")) concurrency = strtol(v, NULL, 10);
    else if (!strcmp(a, "--protocol")) protocol = strtol(v, NULL, 10);
    else if (!strcmp(a, "--hold")) hold = strtol(v, NULL, 10);
    else if (!strcmp(a, "--source-addresses")) sources_arg = v;
    else if (!strcmp(a, "--json")) json = v;
    else if (!strcmp(a, "--broker-pid")) broker_pid = strtol(v, NULL, 10);
    else usage("unknown option (see --help)");
  }
  if (port < 1 || port > 65535) usage("--port must be 1..65535");
  if (count < 1 || count > 1000000) usage("--connections must be 1..1000000");
  if (concurrency < 1 || concurrency > 100000) usage("--concurrency must be 1..100000");
  if (protocol != 4 && protocol != 5) usage("--protocol must be 4 (3.1.1) or 5");
  if (hold < 0) usage("--hold must be 0 or more seconds");
  if (broker_pid < 0 || (broker_pid > 0 && cpu_ns_of(broker_pid) < 0)) usage("--broker-pid must name a running process whose /proc entry is readable");

  struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) usage("--host must be an IPv4 address");
  struct sockaddr_in sources[MAX_SOURCES];
  int nsources = 0;
  if (sources_arg) {
    char *copy = strdup(sources_arg), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (nsources == MAX_SOURCES) usage("at most 64 --source-addresses");
      sources[nsources] = (struct sockaddr_in){.sin_family = AF_INET};
      if (inet_pton(AF_INET, tok, &sources[nsources].sin_addr) != 1) usage("--source-addresses takes IPv4 addresses");
      nsources++;
    }
    free(copy);
  }

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if ((long)rl.rlim_cur < count + 16) {
    fprintf(stderr, "connstorm: %ld connections need %ld descriptors, the limit is %ld: raise it (ulimit -n) or use fewer\n", count, count + 16, (long)rl.rlim_cur);
    return 2;
  }

  struct conn *conns = calloc((size_t)count, sizeof *conns);
  uint32_t *latency_us = calloc((size_t)count, sizeof *latency_us);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (!conns || !latency_us || ep < 0) {
    perror("connstorm: setup");
    return 1;
  }
  struct epoll_event events[1024];
  long next = 0, inflight = 0, done = 0, failed = 0, answered = 0, last_done = 0;
  int first_error = 0;
  int64_t broker_cpu_start = broker_pid > 0 ? cpu_ns_of(broker_pid) : 0, broker_cpu_end = broker_cpu_start;
  long long user0 = 0, sys0 = 0, user1 = 0, sys1 = 0;
  if (broker_pid > 0) ticks_of(broker_pid, &user0, &sys0);
  struct rusage self0, self1;
  getrusage(RUSAGE_SELF, &self0);
  uint64_t start = now_ns(), last_answer = start, last_progress = start;
  unsigned char packet[300];
  /* Syscalls per connection are kept to what a client must do (the generator's core is the
     limit on a small machine): no Nagle switch for a single write, no SO_ERROR read (the write
     fails with the connect's error), one epoll registration, edge-triggered, never removed
     (close does that). */
  const int pid = (int)getpid();

  while (answered < count) {
    while (next < count && inflight < concurrency) {
      struct conn *c = &conns[next];
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      c->started_ns = now_ns();
      if (c->fd < 0) {
        if (!first_error) first_error = errno;
        c->state = FAILED;
        failed++, answered++, next++;
        continue;
      }
      int one = 1;
      /* The port is picked at connect() for the whole 4-tuple, so connections from other source
         addresses leave 127.0.0.1's ephemeral ports to other clients of the same broker. */
      if (nsources > 0) setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (nsources > 0 && bind(c->fd, (struct sockaddr *)&sources[next % nsources], sizeof sources[0]) < 0) {
        if (!first_error) first_error = errno;
      }
      int r = connect(c->fd, (struct sockaddr *)&target, sizeof target);
      if (r < 0 && errno != EINPROGRESS) {
        if (!first_error) first_error = errno;
        close(c->fd);
        c->fd = -1;
        c->state = FAILED;
        failed++, answered++, next++;
        continue;
      }
      c->state = CONNECTING;
      struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLET, .data.u64 = (uint64_t)next};
      epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
      inflight++, next++;
    }
    int n = epoll_wait(ep, events, 1024, 200);
    for (int i = 0; i < n; i++) {
      long idx = (long)events[i].data.u64;
      struct conn *c = &conns[idx];
      /* Still registered (nothing is removed): whatever happens to it now is not measured. */
      if (c->state == DONE) continue;
      if (c->state == CONNECTING && (events[i].events & EPOLLOUT)) {
        char id[64];
        snprintf(id, sizeof id, "storm-%d-%ld", pid, idx);
        size_t plen = connect_packet(packet, (int)protocol, id);
        if (write(c->fd, packet, plen) != (ssize_t)plen) {
          if (!first_error) first_error = errno;
          goto fail;
        }
        c->state = WAITING;
        continue;
      }
      if (c->state == WAITING && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        unsigned char buf[64];
        ssize_t got = read(c->fd, buf, sizeof buf);
        /* Edge-triggered: a CONNACK split in two (never seen) would wait for the next edge. */
        if (got < 0 && errno == EAGAIN) continue;
        /* CONNACK: type 2, and return code (3.1.1) / reason code (5) 0 in its fourth byte. */
        if (got >= 4 && buf[0] == 0x20 && buf[3] == 0) {
          uint64_t t = now_ns();
          latency_us[done++] = (uint32_t)((t - c->started_ns) / 1000);
          last_answer = t;
          /* Read at each answer only near the end: the last read is the one that counts. */
          if (broker_pid > 0 && answered + 1 == count) {
            broker_cpu_end = cpu_ns_of(broker_pid);
            ticks_of(broker_pid, &user1, &sys1);
          }
          c->state = DONE;
          inflight--, answered++;
          continue;
        }
        if (!first_error) first_error = got == 0 ? ECONNRESET : (got < 0 ? errno : EPROTO);
        goto fail;
      }
      if (events[i].events & (EPOLLHUP | EPOLLERR)) {
        if (!first_error) first_error = ECONNRESET;
        goto fail;
      }
      continue;
    fail:
      close(c->fd);
      c->fd = -1;
      c->state = FAILED;
      failed++, inflight--, answered++;
    }
    uint64_t t = now_ns();
    if (t - last_progress >= 1000000000ull) {
      fprintf(stderr, "[%3.0fs] connstorm: %ld/%ld answered (%ld/s), %ld failed, %ld in flight\n", (t - start) / 1e9, answered, count,
              (long)((done - last_done) * 1e9 / (t - last_progress)), failed, inflight);
      last_done = done;
      last_progress = t;
    }
  }

  /* Stopped from now on (flood.js --idle stops it once the summary is out): the kernel would
     close every connection with a FIN, leaving as many TIME_WAIT sockets whose expiry runs a
     minute later on the broker's core (on loopback the broker's FIN is processed there), in the
     next run. Set before the summary is printed, so a stop that answers it is caught. */
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  double seconds = (last_answer - start) / 1e9;
  qsort(latency_us, (size_t)done, sizeof *latency_us, cmp_u32);
  double p50 = done ? latency_us[(done - 1) * 50 / 100] / 1000.0 : 0;
  double p99 = done ? latency_us[(done - 1) * 99 / 100] / 1000.0 : 0;
  double max = done ? latency_us[done - 1] / 1000.0 : 0;
  double rate = seconds > 0 ? done / seconds : 0;
  /* The last answer may have been a failure: read the broker's time now then. */
  if (broker_pid > 0 && broker_cpu_end == broker_cpu_start) {
    broker_cpu_end = cpu_ns_of(broker_pid);
    ticks_of(broker_pid, &user1, &sys1);
  }
  getrusage(RUSAGE_SELF, &self1);
  double self_ms = (self1.ru_utime.tv_sec - self0.ru_utime.tv_sec + self1.ru_stime.tv_sec - self0.ru_stime.tv_sec) * 1e3 +
                   (self1.ru_utime.tv_usec - self0.ru_utime.tv_usec + self1.ru_stime.tv_usec - self0.ru_stime.tv_usec) / 1e3;
  double self_busy = seconds > 0 ? self_ms / 10 / seconds : 0;
  long long ticks = (user1 - user0) + (sys1 - sys0);
  double broker_sys_share = ticks > 0 ? 100.0 * (sys1 - sys0) / ticks : -1;
  double broker_cpu_ms = broker_pid > 0 && broker_cpu_end >= broker_cpu_start ? (broker_cpu_end - broker_cpu_start) / 1e6 : -1;
  double broker_us_per = broker_cpu_ms >= 0 && done > 0 ? broker_cpu_ms * 1000 / done : -1;
  double broker_busy = broker_cpu_ms >= 0 && seconds > 0 ? broker_cpu_ms / 10 / seconds : -1;
  printf("connstorm: %ld of %ld connected in %.2f s = %.0f connections/s (%ld failed%s%s), CONNECT to CONNACK p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
         done, count, seconds, rate, failed, first_error ? ": " : "", first_error ? strerror(first_error) : "", p50, p99, max);
  if (broker_cpu_ms >= 0)
    printf("connstorm: broker (pid %ld) ran %.0f ms of CPU over the storm: %.1f us per connection, %.0f%% of one core, %.0f%% of it in the kernel\n", broker_pid,
           broker_cpu_ms, broker_us_per, broker_busy, broker_sys_share);
  printf("connstorm: the generator itself ran %.0f ms of CPU (%.0f%% of one core)\n", self_ms, self_busy);
  if (json) {
    FILE *f = strcmp(json, "-") ? fopen(json, "w") : stdout;
    if (!f) {
      perror("connstorm: --json");
      return 1;
    }
    fprintf(f, "{\"connections\":%ld,\"connected\":%ld,\"failed\":%ld,\"seconds\":%.6f,\"connectsPerSecond\":%.1f,\"concurrency\":%ld,"
               "\"latencyMs\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"firstError\":\"%s\"",
            count, done, failed, seconds, rate, concurrency, p50, p99, max, first_error ? strerror(first_error) : "");
    fprintf(f, ",\"generatorCorePercent\":%.1f", self_busy);
    if (broker_cpu_ms >= 0)
      fprintf(f, ",\"brokerCpuMs\":%.3f,\"brokerCpuUsPerConnection\":%.2f,\"brokerCorePercent\":%.1f,\"brokerKernelPercent\":%.1f", broker_cpu_ms, broker_us_per, broker_busy,
              broker_sys_share);
    fprintf(f, "}\n");
    if (f != stdout) fclose(f);
  }
  /* Said before the hold: a script waiting for the summary (scripts/memory-slope) reads it now. */
  fflush(stdout);
  for (unsigned left = (unsigned)hold; left > 0 && !stop_holding;) left = sleep(left);
  /* Closed with a reset (linger 0): a normal close would leave every connection in TIME_WAIT on
     this side for a minute, and the next run's connect() would search past them for a port. */
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  for (long i = 0; i < count; i++) {
    if (conns[i].fd < 0) continue;
    setsockopt(conns[i].fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(conns[i].fd);
  }
  return failed > 0 ? 1 : 0;
}
