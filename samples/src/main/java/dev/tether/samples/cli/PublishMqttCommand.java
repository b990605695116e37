package dev.tether.samples.cli;

import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSessionStore;
import dev.tether.mqtt.MqttVersion;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * {@code tether publish mqtt URI --topic T}: publishes {@code --count} numbered messages (the payload is the
 * message's number from 0, as decimal text) through the resilient client, optionally at a rate and with a
 * durable session store, then closes gracefully (the close waits for the acknowledgements) and reports them.
 * With {@code --store}, a run killed half-way leaves its unfinished publishes in the store and the next run
 * with the same store sends them first; {@code --count 0} only finishes what the store holds.
 */
@Command(name = "mqtt", mixinStandardHelpOptions = true,
        description = {"Publish numbered messages (payload: the number from 0, as text) and report the acknowledgements.",
                "With --store DIR, unacknowledged messages survive a crash: the next run with the same store sends them",
                "first (--count 0 only finishes them)."})
final class PublishMqttCommand implements Callable<Integer> {

    /** The store file inside {@code --store DIR}. */
    static final String STORE_FILE = "session.mv";

    @Parameters(index = "0", paramLabel = "URI", description = "tcp://, ssl://, ws:// or wss:// broker address")
    String uri;

    @Mixin
    AuthOptions auth;

    @Option(names = "--topic", required = true, paramLabel = "T", description = "Topic to publish to.")
    String topic;

    @Option(names = "--qos", paramLabel = "0|1|2", defaultValue = "1", description = "QoS (default: ${DEFAULT-VALUE}).")
    int qos;

    @Option(names = "--count", paramLabel = "N", defaultValue = "10", description = "Messages to publish (default: ${DEFAULT-VALUE}).")
    long count;

    @Option(names = "--rate", paramLabel = "R", description = "Messages per second (default: as fast as acknowledged).")
    Double rate;

    @Option(names = "--store", paramLabel = "DIR", description = "Directory of a durable session store (" + STORE_FILE + " in it).")
    Path store;

    @Option(names = "--client-id", paramLabel = "ID", description = "Client id (default: tether-publish, random without --store).")
    String clientId;

    @Option(names = "--mqtt-version", paramLabel = "3|5", defaultValue = "5", description = "MQTT version (default: ${DEFAULT-VALUE}).")
    int mqttVersion;

    @Option(names = "--timeout", paramLabel = "D", converter = Durations.class, defaultValue = "30s",
            description = "Bound on connecting and on the final drain (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", description = "Print one JSON object instead of the human report.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (qos < 0 || qos > 2) {
            throw new CommandLine.ParameterException(cl, "--qos must be 0, 1 or 2, not " + qos);
        }
        if (count < 0) {
            throw new CommandLine.ParameterException(cl, "--count must be 0 or more, not " + count);
        }
        if (rate != null && !(rate > 0)) {
            throw new CommandLine.ParameterException(cl, "--rate must be positive, not " + rate);
        }
        if (count == 0 && store == null) {
            throw new CommandLine.ParameterException(cl, "--count 0 only makes sense with --store (it finishes what the store holds)");
        }
        if (mqttVersion != 3 && mqttVersion != 5) {
            throw new CommandLine.ParameterException(cl, "--mqtt-version must be 3 or 5, not " + mqttVersion);
        }
        Endpoint endpoint;
        try {
            endpoint = Endpoint.of(uri);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        String id = clientId != null ? clientId : store != null ? "tether-publish"
                : "tether-publish-" + Long.toHexString(System.nanoTime() & 0xffffffL);
        CredentialsProvider credentials = auth.provider(cl, false);
        MqttClient.Builder b = MqttClient.builder().endpoint(endpoint).clientId(id)
                .version(mqttVersion == 3 ? MqttVersion.MQTT_3_1_1 : MqttVersion.MQTT_5).credentials(credentials)
                .drainTimeout(timeout).offlineBuffer(100_000, dev.tether.core.OverflowPolicy.FAIL_NEWEST)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofSeconds(2)).build())
                .name("publish");
        if (store != null) {
            Files.createDirectories(store);
            b.cleanStart(false).sessionExpiry(Duration.ofHours(1)).sessionStore(MqttSessionStore.file(store.resolve(STORE_FILE)));
        }
        MqttClient client = b.build();
        List<String> notices = new CopyOnWriteArrayList<>();
        Disposable watch = client.lifecycle().subscribe(e -> {
            if (e instanceof LifecycleEvent.Notice n && (n.kind().equals("resent") || n.kind().equals("republished"))) {
                notices.add(n.kind() + ": " + n.details());
            }
        });
        AtomicLong acknowledged = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        List<String> errors = new CopyOnWriteArrayList<>();
        long started = System.nanoTime();
        Map<String, Object> report = Json.object();
        report.put("uri", uri);
        report.put("topic", topic);
        report.put("qos", qos);
        report.put("client_id", id);
        report.put("store", store == null ? null : store.resolve(STORE_FILE).toString());
        int code = 0;
        try {
            client.start();
            client.awaitConnected(timeout).block();
            Flux<Long> numbers = Flux.range(0, (int) Math.min(count, Integer.MAX_VALUE)).map(Long::valueOf);
            if (rate != null) {
                numbers = numbers.delayElements(Duration.ofNanos((long) (1e9 / rate)));
            }
            MqttQos q = MqttQos.of(qos);
            numbers.flatMap(n -> client.publish(MqttMessage.of(topic, Long.toString(n), q))
                            .doOnNext(r -> acknowledged.incrementAndGet())
                            .onErrorResume(e -> {
                                failed.incrementAndGet();
                                if (errors.size() < 5) {
                                    errors.add(TetherCommand.oneLine(e));
                                }
                                return reactor.core.publisher.Mono.empty();
                            }), 512)
                    .then().block();
            client.close().block(timeout.plusSeconds(10));
        } catch (RuntimeException e) {
            report.put("error", TetherCommand.oneLine(e));
            code = 1;
            client.abort().block(Duration.ofSeconds(10));
        } finally {
            watch.dispose();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        report.put("published", count);
        report.put("acknowledged", acknowledged.get());
        report.put("failed", failed.get());
        report.put("errors", errors);
        report.put("restored", notices);
        report.put("seconds", Math.round(seconds * 1000) / 1000.0);
        report.put("per_second", seconds > 0 ? Math.round(acknowledged.get() / seconds) : 0);
        if (failed.get() > 0) {
            code = 1;
        }
        print(cl.getOut(), report);
        return code;
    }

    private void print(PrintWriter out, Map<String, Object> report) {
        if (json) {
            out.println(Json.write(report));
            return;
        }
        out.printf("broker        %s, topic %s, QoS %s, client id %s%n", report.get("uri"), report.get("topic"),
                report.get("qos"), report.get("client_id"));
        if (report.get("store") != null) {
            out.printf("store         %s%n", report.get("store"));
        }
        for (Object n : (List<?>) report.get("restored")) {
            out.printf("from store    %s%n", n);
        }
        out.printf("published     %s, acknowledged %s, failed %s in %s s (%s/s)%n", report.get("published"),
                report.get("acknowledged"), report.get("failed"), report.get("seconds"), report.get("per_second"));
        for (Object e : (List<?>) report.get("errors")) {
            out.printf("error         %s%n", e);
        }
        if (report.containsKey("error")) {
            out.printf("error         %s%n", report.get("error"));
        }
    }
}
