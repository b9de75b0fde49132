/*
 * Skiff's pause program: the first process of every pod sandbox. It holds the pod's
 * namespaces open by doing nothing: sleeps until signalled, exits 0 on SIGINT or SIGTERM,
 * and, being PID 1 of the pod's PID namespace when that is shared, reaps every child
 * that is re-parented to it so no zombie is left behind.
 *
 * Built by src/agent/images/builtin.ts with `gcc -static -Os -s`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "skiff-pause 1"

static void on_terminate(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  int saved = errno;
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int install(int sig, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("%s\n", VERSION);
    return 0;
  }
  if (getpid() != 1) {
    fprintf(stderr, "%s: warning: not running as PID 1\n", VERSION);
  }
  if (install(SIGINT, on_terminate, 0) < 0 || install(SIGTERM, on_terminate, 0) < 0 ||
      install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
    perror("sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
  /* not reached */
  return 42;
}
