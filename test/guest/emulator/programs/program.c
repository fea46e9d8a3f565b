/*
 * cscript.exe and netsh.exe of the emulated Windows, as one small native executable on PATH (see programs.ts).
 *
 * The programs themselves run in the emulated machine (windows.js, served by network.js on 127.0.0.1:47002): this
 * client only hands over its name, process id and arguments, then prints what the program printed and exits with its
 * code. A node process per call cost ~0.12 CPU-s, and a guest run makes up to eight calls. Killing this process (the
 * script's timeout) closes the connection, and the machine abandons the operation as it would a killed slmgr.
 *
 * Request:  one JSON line {"program":"<name>","pid":<pid>,"args":["...",...]}
 * Answer:   "<exit> <stdout bytes> <stderr bytes>\n", then those bytes. <exit> is the full 32-bit code Windows keeps;
 *           the machine has left it in KMS_EMU_EXIT_DIR/<pid> for the Start-Process shim, Linux keeps its low 8 bits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROGRAMS_PORT 47002

struct buffer {
    char *data;
    size_t length, capacity;
};

static void append(struct buffer *b, const char *bytes, size_t n) {
    if (b->length + n > b->capacity) {
        b->capacity = (b->length + n) * 2 + 256;
        b->data = realloc(b->data, b->capacity);
        if (b->data == NULL) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(b->data + b->length, bytes, n);
    b->length += n;
}

static void append_text(struct buffer *b, const char *text) { append(b, text, strlen(text)); }

/* A JSON string: quotes, backslashes and control characters escaped; other bytes (UTF-8) as they are. */
static void append_json_string(struct buffer *b, const char *text) {
    append_text(b, "\"");
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        char escaped[8];
        if (*c == '"' || *c == '\\') {
            escaped[0] = '\\';
            escaped[1] = (char)*c;
            append(b, escaped, 2);
        } else if (*c < 0x20) {
            snprintf(escaped, sizeof escaped, "\\u%04x", *c);
            append_text(b, escaped);
        } else {
            append(b, (const char *)c, 1);
        }
    }
    append_text(b, "\"");
}

static int write_all(int fd, const char *bytes, size_t n) {
    while (n > 0) {
        ssize_t written = write(fd, bytes, n);
        if (written < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += written;
        n -= (size_t)written;
    }
    return 0;
}

/* Copies exactly n bytes from the connection to fd. */
static int relay(int from, int to, size_t n) {
    char chunk[8192];
    while (n > 0) {
        ssize_t got = read(from, chunk, n < sizeof chunk ? n : sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        if (write_all(to, chunk, (size_t)got) != 0) return -1;
        n -= (size_t)got;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];

    int machine = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons(PROGRAMS_PORT);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (machine < 0 || connect(machine, (struct sockaddr *)&address, sizeof address) != 0) {
        fprintf(stderr, "%s: the emulated machine does not answer on 127.0.0.1:%d (%s)\n", name, PROGRAMS_PORT, strerror(errno));
        return 1;
    }

    struct buffer request = {0};
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    append_text(&request, "{\"program\":");
    append_json_string(&request, name);
    append_text(&request, ",\"pid\":");
    append_text(&request, pid);
    append_text(&request, ",\"args\":[");
    for (int i = 1; i < argc; i++) {
        if (i > 1) append_text(&request, ",");
        append_json_string(&request, argv[i]);
    }
    append_text(&request, "]}\n");
    if (write_all(machine, request.data, request.length) != 0) {
        fprintf(stderr, "%s: could not send the request (%s)\n", name, strerror(errno));
        return 1;
    }

    char header[96];
    size_t used = 0;
    while (used < sizeof header - 1) {
        ssize_t got = read(machine, header + used, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (header[used++] == '\n') break;
    }
    header[used] = '\0';
    long exit_code;
    size_t out_length, err_length;
    if (sscanf(header, "%ld %zu %zu", &exit_code, &out_length, &err_length) != 3) {
        fprintf(stderr, "%s: the emulated machine gave no answer\n", name);
        return 1;
    }
    if (relay(machine, STDOUT_FILENO, out_length) != 0 || relay(machine, STDERR_FILENO, err_length) != 0) {
        fprintf(stderr, "%s: the answer was cut short\n", name);
        return 1;
    }
    if (exit_code == 0) return 0;
    return (exit_code & 0xff) != 0 ? (int)(exit_code & 0xff) : 1;
}
