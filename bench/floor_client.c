/* The benchmark's "floor" contender: the least a process can do to probe an HTTP server over a
 * new connection, as a measure of what the kernel's TCP costs on this machine.
 *
 *   floor_client PORT RATE SECONDS ADDRESS...
 *
 * Makes RATE requests per second for SECONDS, round-robin over the IPv4 ADDRESSes, one at a
 * time and blocking, with what the exporter does per probe and nothing more: the same socket
 * options (TCP_NODELAY, TCP_DEFER_ACCEPT, SO_LINGER 0 at close, so the close is a reset), the
 * same request (GET / with Host, User-Agent, Accept and `Connection: close`), reading until the
 * response's body is complete. No event loop, no parser, no timers, no allocation: the requests
 * due are made back to back every 10 ms (the exporter also wakes once per batch of due probes).
 * The whole run is bounded by an alarm; prints "done N failed M" at the end. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char kRequest[] =
    "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: floor_client\r\nAccept: */*\r\n"
    "Connection: close\r\n\r\n";

/* 0 when a complete 200 response arrived. */
static int probe(const struct sockaddr_in* peer, const char* host) {
  char request[256];
  const int request_len = snprintf(request, sizeof request, kRequest, host);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
  int result = -1;
  if (connect(fd, (const struct sockaddr*)peer, sizeof *peer) == 0 &&
      write(fd, request, (size_t)request_len) == request_len) {
    char response[4096];
    size_t got = 0;
    for (;;) {
      const ssize_t n = read(fd, response + got, sizeof response - 1 - got);
      if (n <= 0) {
        break;
      }
      got += (size_t)n;
      response[got] = '\0';
      const char* body = strstr(response, "\r\n\r\n");
      const char* length = strcasestr(response, "\r\ncontent-length:");
      if (body != NULL && length != NULL &&
          got - (size_t)(body + 4 - response) >= strtoul(length + 17, NULL, 10)) {
        result = strncmp(response, "HTTP/1.1 200 ", 13) == 0 ? 0 : -1;
        break;
      }
      if (got == sizeof response - 1) {
        break;
      }
    }
  }
  const struct linger reset_on_close = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  close(fd);
  return result;
}

static double seconds_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s PORT RATE SECONDS ADDRESS...\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const double rate = atof(argv[2]);
  const double seconds = atof(argv[3]);
  const int count = argc - 4;
  struct sockaddr_in* peers = calloc((size_t)count, sizeof *peers);
  if (peers == NULL || port <= 0 || port > 65535 || rate <= 0 || seconds <= 0) {
    fprintf(stderr, "%s: bad arguments\n", argv[0]);
    return 2;
  }
  for (int i = 0; i < count; ++i) {
    peers[i].sin_family = AF_INET;
    peers[i].sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, argv[4 + i], &peers[i].sin_addr) != 1) {
      fprintf(stderr, "%s: not an IPv4 address: %s\n", argv[0], argv[4 + i]);
      return 2;
    }
  }
  alarm((unsigned)seconds + 10); /* a peer that never answers cannot hold the benchmark */
  struct timespec start, tick;
  clock_gettime(CLOCK_MONOTONIC, &start);
  tick = start;
  long done = 0, failed = 0;
  int next = 0;
  for (;;) {
    const double elapsed = seconds_since(&start);
    if (elapsed >= seconds) {
      break;
    }
    for (long due = (long)(elapsed * rate); done + failed < due;) {
      if (probe(&peers[next], argv[4 + next]) == 0) {
        ++done;
      } else {
        ++failed;
      }
      next = (next + 1) % count;
    }
    tick.tv_nsec += 10 * 1000 * 1000;
    if (tick.tv_nsec >= 1000 * 1000 * 1000) {
      tick.tv_nsec -= 1000 * 1000 * 1000;
      ++tick.tv_sec;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR) {
    }
  }
  printf("done %ld failed %ld\n", done, failed);
  return 0;
}
