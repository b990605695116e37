package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.CloseMode;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.mqtt.test.MoquetteBroker;
import dev.tether.testkit.Sockets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Flux;

/**
 * Field report 000: every disconnect mode over TCP and WebSocket ends with the transport really
 * closed, and an independent client subscribed to the Will topic proves whether the Will arrived,
 * and how fast. HiveMQ CE speaks MQTT 5 (all three modes), Moquette MQTT 3.1.1.
 */
class WillDeliveryIT {

    static HiveMqBroker hivemq;
    static MoquetteBroker moquette;

    @BeforeAll
    static void start() {
        hivemq = HiveMqBroker.start();
        moquette = MoquetteBroker.start();
    }

    @AfterAll
    static void stop() {
        moquette.close();
        hivemq.close();
    }

    @ParameterizedTest(name = "{0} over {1} with {2}")
    @CsvSource({
            "hivemq, tcp, ABORT", "hivemq, ws, ABORT",
            "hivemq, tcp, GRACEFUL", "hivemq, ws, GRACEFUL",
            "hivemq, tcp, GRACEFUL_WITH_WILL", "hivemq, ws, GRACEFUL_WITH_WILL",
            "moquette, tcp, ABORT", "moquette, ws, ABORT",
            "moquette, tcp, GRACEFUL", "moquette, ws, GRACEFUL"})
    void willArrivesOnlyWhenItShould(String brokerName, String transport, CloseMode mode) throws Exception {
        boolean hive = brokerName.equals("hivemq");
        String uri = hive ? (transport.equals("ws") ? hivemq.wsUri() : hivemq.tcpUri())
                : (transport.equals("ws") ? moquette.wsUri() : moquette.tcpUri());
        MqttVersion version = hive ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1;
        LongSupplier open = hive ? hivemq::openConnections : () -> moquette.connectedClients();
        String willTopic = "will/" + brokerName + "/" + transport + "/" + mode;

        // The observer uses the other listener, so the dying client's port carries its connection only.
        String otherUri = hive ? (transport.equals("ws") ? hivemq.tcpUri() : hivemq.wsUri())
                : (transport.equals("ws") ? moquette.tcpUri() : moquette.wsUri());
        int port = java.net.URI.create(uri).getPort();
        MqttClient observer = MqttClient.builder().endpoint(otherUri)
                .version(version).clientId("observer-" + brokerName + transport + mode).build().start();
        Recorder<LifecycleEvent> observerEvents = Recorder.lifecycle(observer.lifecycle());
        LinkedBlockingQueue<Long> willArrivals = new LinkedBlockingQueue<>();
        var willSubscription = observer.subscribe(willTopic, MqttQos.AT_LEAST_ONCE)
                .subscribe(m -> willArrivals.add(System.nanoTime()));
        observerEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed"), Duration.ofSeconds(10));
        long before = open.getAsLong();

        MqttClient client = MqttClient.builder().endpoint(uri).version(version)
                .clientId("dying-" + brokerName + transport + mode)
                .will(MqttWill.of(MqttMessage.of(willTopic, "gone", MqttQos.AT_LEAST_ONCE)))
                .build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
        client.awaitConnected(Duration.ofSeconds(10)).block();
        awaitOpen(open, before + 1);

        long closing = System.nanoTime();
        Flux.from(client.connection().close(mode)).blockLast(Duration.ofSeconds(10));
        long closedNanos = System.nanoTime() - closing;

        LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(1));
        assertThat(d.initiator()).isEqualTo(dev.tether.core.Initiator.LOCAL_USER);
        // Closed as the broker sees it (its connection count drops back) and as the kernel sees it.
        awaitOpen(open, before);
        assertThat(Sockets.awaitNoneEstablished(port, Duration.ofSeconds(5))).as("ESTABLISHED sockets left on port " + port).isTrue();
        assertThat(Duration.ofNanos(closedNanos)).isLessThan(Duration.ofSeconds(3));

        boolean willExpected = mode != CloseMode.GRACEFUL;
        Long arrived = willArrivals.poll(willExpected ? 5000 : 1500, TimeUnit.MILLISECONDS);
        if (willExpected) {
            assertThat(arrived).as("Will delivered to the observer").isNotNull();
            Duration took = Duration.ofNanos(arrived - closing);
            assertThat(took).as("time from close to Will").isLessThan(Duration.ofMillis(mode == CloseMode.ABORT ? 700 : 2000));
        } else {
            assertThat(arrived).as("no Will after a graceful DISCONNECT").isNull();
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.CloseSent.class,
                    cs -> assertThat(cs.code()).isZero()));
        }
        if (mode == CloseMode.GRACEFUL_WITH_WILL) {
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.CloseSent.class,
                    cs -> assertThat(cs.code()).isEqualTo(4)));
        }
        if (mode == CloseMode.ABORT) {
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.CloseSent);
        }
        willSubscription.dispose();
        observer.close().block(Duration.ofSeconds(10));
        // Leave the broker as found, so the next case counts from a settled number.
        awaitOpen(open, before - 1);
    }

    @org.junit.jupiter.api.Test
    void willDelayIntervalIsSentAndHonouredByTheBroker() throws Exception {
        String willTopic = "will/delayed";
        MqttClient observer = MqttClient.builder().endpoint(hivemq.wsUri()).build().start();
        Recorder<LifecycleEvent> observerEvents = Recorder.lifecycle(observer.lifecycle());
        LinkedBlockingQueue<MqttMessage> wills = new LinkedBlockingQueue<>();
        var subscription = observer.subscribe(willTopic, MqttQos.AT_LEAST_ONCE).subscribe(wills::add);
        observerEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
        MqttClient client = MqttClient.builder().endpoint(hivemq.tcpUri()).clientId("delayed-will")
                .cleanStart(true).sessionExpiry(Duration.ofSeconds(60))
                .will(MqttWill.builder(MqttMessage.builder(willTopic).payload("late".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        .qos(MqttQos.AT_LEAST_ONCE).contentType("text/plain").userProperty("reason", "test").build())
                        .delay(Duration.ofSeconds(1)).build())
                .build().start();
        client.awaitConnected(Duration.ofSeconds(10)).block();
        long t0 = System.nanoTime();
        client.abort().block(Duration.ofSeconds(10));
        MqttMessage will = wills.poll(10, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(will).isNotNull();
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(6));
        assertThat(will.contentType()).hasValue("text/plain");
        assertThat(will.userProperties()).containsEntry("reason", "test");
        subscription.dispose();
        observer.close().block(Duration.ofSeconds(10));
    }

    static void awaitOpen(LongSupplier open, long expected) {
        Long seen = Flux.interval(Duration.ofMillis(20)).map(i -> open.getAsLong()).filter(n -> n == expected)
                .next().timeout(Duration.ofSeconds(5)).onErrorResume(e -> reactor.core.publisher.Mono.empty()).block();
        assertThat(seen).as("broker-side open connections reach " + expected + " (now " + open.getAsLong() + ")").isNotNull();
    }
}
