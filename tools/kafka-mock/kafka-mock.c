/*
 * A Kafka cluster for tests and benches: librdkafka's mock cluster (rdkafka_mock.h) in one
 * process. Prints "bootstrap HOST:PORT,..." on stdout once it listens, then reads commands on
 * stdin, one a line, answering "ok" or "error ...":
 *   topic NAME PARTITIONS   create a topic
 *   down | up               take every broker down (connections refused) or bring it back
 * It exits when stdin closes or on SIGTERM/SIGINT.
 *
 * Quirks of the 2.0.2 mock worked around here: ListOffsets above v3 and InitProducerId above v2
 * answer in shapes clients misread, so both are capped.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_LIST_OFFSETS 2
#define API_INIT_PRODUCER_ID 22

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
        (void)sig;
        stopping = 1;
}

static void set_brokers(rd_kafka_mock_cluster_t *mc, int count, int up) {
        for (int id = 1; id <= count; id++) {
                if (up)
                        rd_kafka_mock_broker_set_up(mc, id);
                else
                        rd_kafka_mock_broker_set_down(mc, id);
        }
}

int main(int argc, char **argv) {
        int brokers = argc > 1 ? atoi(argv[1]) : 1;
        if (brokers < 1 || brokers > 9) {
                fprintf(stderr, "usage: kafka-mock [BROKERS 1-9]\n");
                return 2;
        }
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        /* The mock cluster needs a client handle to live in; it never produces. */
        if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "error: %s\n", err);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (rk == NULL) {
                fprintf(stderr, "error: rd_kafka_new: %s\n", err);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (mc == NULL) {
                fprintf(stderr, "error: rd_kafka_mock_cluster_new failed\n");
                return 1;
        }
        rd_kafka_mock_set_apiversion(mc, API_LIST_OFFSETS, 0, 3);
        rd_kafka_mock_set_apiversion(mc, API_INIT_PRODUCER_ID, 0, 2);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        char line[512];
        while (!stopping && fgets(line, sizeof line, stdin) != NULL) {
                char name[256];
                int partitions = 0;
                if (sscanf(line, "topic %255s %d", name, &partitions) == 2) {
                        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, partitions, 1);
                        if (e)
                                printf("error %s\n", rd_kafka_err2str(e));
                        else
                                printf("ok\n");
                } else if (strncmp(line, "down", 4) == 0) {
                        set_brokers(mc, brokers, 0);
                        printf("ok\n");
                } else if (strncmp(line, "up", 2) == 0) {
                        set_brokers(mc, brokers, 1);
                        printf("ok\n");
                } else {
                        printf("error unknown command (topic NAME PARTITIONS | down | up)\n");
                }
                fflush(stdout);
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
