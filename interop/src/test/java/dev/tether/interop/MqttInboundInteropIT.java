package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttVersion;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The way in against Mosquitto: shared subscriptions over MQTT 3.1.1 and 5, a killed persistent subscriber
 * that loses at most what its own pipeline held, and a broker paced by the Receive Maximum the client
 * announced while the application is slow.
 */
@ExtendWith(PeerLogs.class)
class MqttInboundInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String USER = "device";
    private static final String PASSWORD = "right-password";
    private static final ReconnectPolicy FAST = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50))
            .maxDelay(Duration.ofMillis(500)).build();

    private Mosquitto mosquitto;

    @BeforeEach
    void startBroker() {
        PeerLogs.clear();
        mosquitto = Mosquitto.start(USER, PASSWORD);
        PeerLogs.register("mosquitto", mosquitto::log);
    }

    @AfterEach
    void stopBroker() {
        mosquitto.close();
    }

    private MqttClient.Builder client(MqttVersion version) {
        return MqttClient.builder().endpoint("tcp://127.0.0.1:" + mosquitto.tcpPort()).version(version).reconnect(FAST)
                .credentials(CredentialsProvider.fixed(Credentials.of(USER, PASSWORD)));
    }

    private MqttClient publisher() {
        MqttClient pub = client(MqttVersion.MQTT_5).build().start();
        pub.awaitConnected(WAIT).block();
        return pub;
    }

    private static void subscribed(Recorder<LifecycleEvent> rec) {
        rec.next(e -> e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed"), WAIT, "SUBACK");
    }

    @Test
    void aSharedGroupOfTwoMqtt311ClientsSplitsTheMessagesAndEachArrivesOnce() {
        sharedGroup(MqttVersion.MQTT_3_1_1);
    }

    @Test
    void aSharedGroupOfTwoMqtt5ClientsSplitsTheMessagesAndEachArrivesOnce() {
        sharedGroup(MqttVersion.MQTT_5);
    }

    private void sharedGroup(MqttVersion version) {
        String filter = "$share/workers/jobs/#";
        MqttClient a = client(version).clientId("worker-a").build();
        MqttClient b = client(version).clientId("worker-b").build();
        List<String> gotA = new CopyOnWriteArrayList<>();
        List<String> gotB = new CopyOnWriteArrayList<>();
        Disposable sa = a.subscribe(filter, MqttQos.AT_LEAST_ONCE).subscribe(m -> gotA.add(m.payloadAsString()));
        Disposable sb = b.subscribe(filter, MqttQos.AT_LEAST_ONCE).subscribe(m -> gotB.add(m.payloadAsString()));
        MqttClient pub = null;
        try (Recorder<LifecycleEvent> ra = Recorder.lifecycle(a.lifecycle()); Recorder<LifecycleEvent> rb = Recorder.lifecycle(b.lifecycle())) {
            a.start();
            b.start();
            subscribed(ra);
            subscribed(rb);
            pub = publisher();
            MqttClient p = pub;
            p.publishAll(Flux.range(0, 200).map(i -> MqttMessage.of("jobs/" + (i % 7), Integer.toString(i),
                    MqttQos.AT_LEAST_ONCE))).then().block(WAIT);
            Await.until(() -> gotA.size() + gotB.size() >= 200, WAIT, "200 jobs across the group");
            // A marker after all jobs, through the same group: once it has arrived, any duplicate would have too.
            p.publish(MqttMessage.of("jobs/end", "end", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            Await.until(() -> gotA.contains("end") || gotB.contains("end"), WAIT, "the marker");
            List<String> all = new ArrayList<>(gotA);
            all.addAll(gotB);
            all.remove("end");
            assertThat(all).hasSize(200).doesNotHaveDuplicates();
            assertThat(gotA).as("jobs to worker a").isNotEmpty();
            assertThat(gotB).as("jobs to worker b").isNotEmpty();
        } finally {
            sa.dispose();
            sb.dispose();
            a.close().block(WAIT);
            b.close().block(WAIT);
            if (pub != null) {
                pub.close().block(WAIT);
            }
        }
    }

    @Test
    void aKilledMqtt311SubscriberLosesAtMostWhatItsOwnPipelineHeld() {
        killedMidStream(MqttVersion.MQTT_3_1_1);
    }

    @Test
    void aKilledMqtt5SubscriberLosesAtMostWhatItsOwnPipelineHeld() {
        killedMidStream(MqttVersion.MQTT_5);
    }

    private void killedMidStream(MqttVersion version) {
        int total = 600;
        String topic = "work/" + version;
        MqttClient.Builder b = client(version).clientId("killed-" + version).cleanStart(false);
        if (version == MqttVersion.MQTT_5) {
            b.sessionExpiry(Duration.ofMinutes(5));
        }
        MqttClient first = b.build();
        Set<String> emittedToFirst = ConcurrentHashMap.newKeySet();
        Set<String> processed = ConcurrentHashMap.newKeySet();
        AtomicInteger firstProcessed = new AtomicInteger();
        Disposable running = first.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE)
                .doOnNext(m -> emittedToFirst.add(m.payloadAsString()))
                .concatMap(m -> Mono.delay(Duration.ofMillis(2)).doOnNext(x -> {
                    processed.add(m.payloadAsString());
                    firstProcessed.incrementAndGet();
                }), 1)
                .subscribe();
        MqttClient pub = null;
        MqttClient second = null;
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(first.lifecycle())) {
            first.start();
            subscribed(rec);
            pub = publisher();
            pub.publishAll(Flux.range(0, total).map(i -> MqttMessage.of(topic + "/" + i, Integer.toString(i),
                    MqttQos.AT_LEAST_ONCE))).then().block(WAIT);
            Await.until(() -> firstProcessed.get() >= total / 4, WAIT, "a quarter processed");
            first.abort().block(WAIT);
            running.dispose();
            Set<String> heldByPipeline = emittedToFirst.stream().filter(p -> !processed.contains(p)).collect(Collectors.toSet());

            second = b.build().start();
            second.awaitConnected(WAIT).block();
            Set<String> got = ConcurrentHashMap.newKeySet();
            Disposable rest = second.subscribe(topic + "/#", MqttQos.AT_LEAST_ONCE).subscribe(m -> got.add(m.payloadAsString()));
            Set<String> missing = ConcurrentHashMap.newKeySet();
            try {
                Await.until(() -> {
                    Set<String> left = IntStream.range(0, total).mapToObj(Integer::toString).collect(Collectors.toCollection(HashSet::new));
                    left.removeAll(processed);
                    left.removeAll(got);
                    left.removeAll(heldByPipeline);
                    missing.clear();
                    missing.addAll(left);
                    return left.isEmpty();
                }, WAIT, "every message processed by one of the two, or held by the first one's pipeline");
            } finally {
                rest.dispose();
            }
            assertThat(missing).isEmpty();
            assertThat(heldByPipeline.size()).as("held by the first pipeline (concatMap, prefetch 1)").isLessThanOrEqualTo(2);
        } finally {
            if (second != null) {
                second.close().block(WAIT);
            }
            if (pub != null) {
                pub.close().block(WAIT);
            }
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    /** Requests only what the test asks for. */
    private static final class Manual extends BaseSubscriber<MqttMessage> {
        final List<MqttMessage> received = new CopyOnWriteArrayList<>();

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
        }

        @Override
        protected void hookOnNext(MqttMessage value) {
            received.add(value);
        }
    }

    @Test
    void mosquittoIsPacedByTheReceiveMaximumWhileTheApplicationAsksForNothing() {
        MqttClient sub = client(MqttVersion.MQTT_5).clientId("slow").receiveMaximum(10).build();
        Manual app = new Manual();
        sub.subscribe("flood/#", MqttQos.EXACTLY_ONCE).subscribe(app);
        MqttClient pub = null;
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(sub.lifecycle())) {
            sub.start();
            subscribed(rec);
            pub = publisher();
            byte[] payload = new byte[16 * 1024];
            pub.publishAll(Flux.range(0, 300).map(i -> MqttMessage.of("flood/" + i, payload, MqttQos.EXACTLY_ONCE)))
                    .then().block(WAIT);
            // Mosquitto's own log: it sent the Receive Maximum's worth and got no PUBREC, because nothing was
            // emitted to the application. Had the client acknowledged on arrival, it would have sent all 300.
            Await.until(() -> count(mosquitto.log(), "Sending PUBLISH to slow") >= 10, WAIT, "10 PUBLISHes to the client");
            pub.publish(MqttMessage.of("barrier", "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            sub.publish(MqttMessage.of("barrier", "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            assertThat(count(mosquitto.log(), "Sending PUBLISH to slow")).as("PUBLISHes before any demand").isEqualTo(10);
            assertThat(count(mosquitto.log(), "Received PUBREC from slow")).as("PUBRECs before any demand").isZero();
            app.request(1);
            Await.until(() -> app.received.size() == 1, WAIT, "one message");
            try {
                Await.until(() -> count(mosquitto.log(), "Received PUBREC from slow") >= 1, WAIT, "one PUBREC");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; received " + app.received.size() + "; events " + rec.items()
                        + "; log " + mosquitto.log().lines().filter(l -> l.contains("slow")).collect(Collectors.joining("\n")), e);
            }
            pub.publish(MqttMessage.of("barrier", "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            sub.publish(MqttMessage.of("barrier", "x", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            assertThat(count(mosquitto.log(), "Received PUBREC from slow")).as("PUBRECs after demand for one").isEqualTo(1);
            app.request(Long.MAX_VALUE);
            try {
                Await.until(() -> app.received.size() == 300, WAIT, "all 300, each once");
            } catch (AssertionError e) {
                String log = mosquitto.log();
                throw new AssertionError(e.getMessage() + ": received " + app.received.size() + ", broker sent "
                        + count(log, "Sending PUBLISH to slow") + " PUBLISH, got " + count(log, "Received PUBREC from slow")
                        + " PUBREC, " + count(log, "Received PUBCOMP from slow") + " PUBCOMP; events " + rec.items()
                        + "; log " + log.lines().filter(l -> l.contains("slow")).limit(60).collect(Collectors.joining("\n")), e);
            }
            // Mosquitto 2.0 sends more than the Receive Maximum once QoS 2 exchanges complete; the client says so
            // and keeps the connection (its own buffers bound the memory).
            assertThat(rec.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
            assertThat(app.received.stream().map(MqttMessage::topic).distinct().count()).isEqualTo(300);
        } finally {
            app.dispose();
            sub.close().block(WAIT);
            if (pub != null) {
                pub.close().block(WAIT);
            }
        }
    }
}
