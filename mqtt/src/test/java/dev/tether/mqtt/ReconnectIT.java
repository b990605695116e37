package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import dev.tether.mqtt.test.MoquetteBroker;
import dev.tether.testkit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Broker restarts, forced drops and dead connections: the client reconnects and nothing is lost. */
class ReconnectIT {

    static HiveMqBroker hivemq;

    @BeforeAll
    static void start() {
        hivemq = HiveMqBroker.start();
    }

    @AfterAll
    static void stop() {
        hivemq.close();
    }

    static String uri(FaultProxy proxy) {
        return "tcp://127.0.0.1:" + proxy.port();
    }

    /**
     * Resets every connection through the proxy. The proxy sets SO_LINGER from the caller's thread, which
     * fails when the socket is already closing; that socket is going away anyway, and each test here has
     * one connection through the proxy, so nothing is left uncut.
     */
    static void cut(FaultProxy proxy) {
        try {
            proxy.cutAll();
        } catch (io.netty.channel.ChannelException alreadyClosing) {
            // see above
        }
    }

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build();
    }

    @Test
    void brokerRestartMidStreamResubscribesAndTheFluxKeepsDelivering() {
        try (MoquetteBroker moquette = MoquetteBroker.start()) {
            MqttClient sub = MqttClient.builder().endpoint(moquette.tcpUri()).version(MqttVersion.MQTT_3_1_1)
                    .clientId("restart-sub").reconnect(fast()).build();
            MqttClient pub = MqttClient.builder().endpoint(moquette.tcpUri()).version(MqttVersion.MQTT_3_1_1)
                    .clientId("restart-pub").reconnect(fast()).build();
            Recorder<LifecycleEvent> subEvents = Recorder.lifecycle(sub.lifecycle());
            Recorder<LifecycleEvent> pubEvents = Recorder.lifecycle(pub.lifecycle());
            sub.start();
            pub.start();
            Recorder<MqttMessage> received = Recorder.of(sub.subscribe("stream/#", MqttQos.AT_LEAST_ONCE));
            subEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            pub.awaitConnected(Duration.ofSeconds(10)).block();
            pub.publish(MqttMessage.of("stream/a", "before", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            received.await(m -> m.payloadAsString().equals("before"), Duration.ofSeconds(10));

            moquette.stop();
            subEvents.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            pubEvents.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            // Published while the broker is down: waits in the offline buffer.
            Mono<PublishResult> buffered = pub.publish(MqttMessage.of("stream/b", "during", MqttQos.AT_LEAST_ONCE)).cache();
            buffered.subscribe();
            moquette.restart();

            LifecycleEvent.Notice resub = (LifecycleEvent.Notice) subEvents.await(
                    e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resubscribed"), Duration.ofSeconds(15));
            assertThat(resub.details().toString()).contains("stream/# -> granted QoS 1");
            assertThat(resub.generation()).isGreaterThan(1);
            assertThat(buffered.block(Duration.ofSeconds(15))).isNotNull();
            pub.publish(MqttMessage.of("stream/c", "after", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            received.await(m -> m.payloadAsString().equals("after"), Duration.ofSeconds(10));
            sub.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void qos1AndQos2PublishesSurviveFiftyForcedDrops() {
        int drops = 50;
        int perDrop = 4;
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", hivemq.tcpPort())) {
            MqttClient observer = MqttClient.builder().endpoint(hivemq.tcpUri()).clientId("drops-observer").build();
            Recorder<LifecycleEvent> observerEvents = Recorder.lifecycle(observer.lifecycle());
            observer.start();
            Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
            var subscription = observer.subscribe("drops/#", MqttQos.EXACTLY_ONCE)
                    .subscribe(m -> counts.computeIfAbsent(m.topic().substring(6, 8) + m.payloadAsString(),
                            k -> new AtomicInteger()).incrementAndGet());
            observerEvents.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));

            MqttClient pub = MqttClient.builder().endpoint(uri(proxy)).clientId("drops-publisher")
                    .cleanStart(false).sessionExpiry(Duration.ofMinutes(5)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(pub.lifecycle());
            pub.start();
            pub.awaitConnected(Duration.ofSeconds(10)).block();
            List<Mono<PublishResult>> results = new ArrayList<>();
            int n = 0;
            for (int drop = 1; drop <= drops; drop++) {
                for (int i = 0; i < perDrop; i++, n++) {
                    MqttQos qos = n % 2 == 0 ? MqttQos.AT_LEAST_ONCE : MqttQos.EXACTLY_ONCE;
                    Mono<PublishResult> r = pub.publish(MqttMessage.of("drops/q" + qos.value(), Integer.toString(n), qos)).cache();
                    r.subscribe(x -> { }, e -> { });
                    results.add(r);
                }
                long generation = pub.connection().generation();
                cut(proxy);
                int expected = drop + 1;
                events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() > generation, Duration.ofSeconds(10));
                assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Connected).hasSizeGreaterThanOrEqualTo(expected);
            }
            List<PublishResult> acked = Flux.concat(results).collectList().block(Duration.ofSeconds(30));
            assertThat(acked).hasSize(drops * perDrop);
            assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Connected c
                    && c.details().toString().contains("sessionPresent=true")).hasSizeGreaterThanOrEqualTo(drops);
            // The drops did hit publishes in flight, and those were resent with their original ids.
            assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Notice no && no.kind().equals("resent"))
                    .isNotEmpty();

            // Every acknowledged publish reached the independent subscriber: QoS 1 at least once, QoS 2 exactly once.
            int total = n;
            Flux.interval(Duration.ofMillis(20)).filter(i -> counts.size() == total).next()
                    .block(Duration.ofSeconds(30));
            pub.publish(MqttMessage.of("drops/q2", "end", MqttQos.EXACTLY_ONCE)).block(Duration.ofSeconds(10));
            Flux.interval(Duration.ofMillis(20)).filter(i -> counts.containsKey("q2end")).next().block(Duration.ofSeconds(10));
            for (int i = 0; i < total; i++) {
                MqttQos qos = i % 2 == 0 ? MqttQos.AT_LEAST_ONCE : MqttQos.EXACTLY_ONCE;
                AtomicInteger c = counts.get("q" + qos.value() + i);
                assertThat(c).as("message " + i + " (QoS " + qos.value() + ") delivered").isNotNull();
                if (qos == MqttQos.EXACTLY_ONCE) {
                    assertThat(c.get()).as("QoS 2 message " + i + " delivered exactly once").isEqualTo(1);
                } else {
                    assertThat(c.get()).as("QoS 1 message " + i + " delivered at least once").isGreaterThanOrEqualTo(1);
                }
            }
            assertThat(proxy.acceptedCount()).isGreaterThanOrEqualTo(drops + 1);
            subscription.dispose();
            pub.close().block(Duration.ofSeconds(10));
            observer.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void blackholedConnectionIsDetectedByKeepaliveAndReconnected() {
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", hivemq.tcpPort())) {
            MqttClient client = MqttClient.builder().endpoint(uri(proxy)).clientId("keepalive")
                    .keepAlive(Duration.ofSeconds(1)).pingTimeout(Duration.ofMillis(500)).reconnect(fast())
                    .attemptTimeout(Duration.ofSeconds(2)).connackTimeout(Duration.ofSeconds(1)).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            client.awaitConnected(Duration.ofSeconds(10)).block();
            long t0 = System.nanoTime();
            proxy.blackhole(true);
            LifecycleEvent.Disconnected d = events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            Duration detectedAfter = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
            assertThat(d.cause()).hasMessageContaining("no PINGRESP within 500 ms");
            // keepalive/2 tick + ping timeout, with slack for a loaded machine
            assertThat(detectedAfter).isLessThan(Duration.ofSeconds(4));
            proxy.blackhole(false);
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() > 1, Duration.ofSeconds(15));
            client.close().block(Duration.ofSeconds(10));
        }
    }

    @Test
    void messagesQueuedForAPersistentSessionArriveRightAfterConnack() {
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", hivemq.tcpPort())) {
            MqttClient sub = MqttClient.builder().endpoint(uri(proxy)).clientId("queued-sub").cleanStart(false)
                    .sessionExpiry(Duration.ofMinutes(5)).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
            Recorder<MqttMessage> received = Recorder.of(sub.subscribe("queued/#", MqttQos.AT_LEAST_ONCE));
            sub.start();
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));

            proxy.refuse(true);
            cut(proxy);
            events.await(LifecycleEvent.Disconnected.class, Duration.ofSeconds(10));
            MqttClient pub = MqttClient.builder().endpoint(hivemq.tcpUri()).clientId("queued-pub").build().start();
            for (int i = 0; i < 10; i++) {
                pub.publish(MqttMessage.of("queued/x", "q" + i, MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            }
            proxy.refuse(false);

            LifecycleEvent.Connected again = (LifecycleEvent.Connected) events.await(
                    e -> e instanceof LifecycleEvent.Connected c && c.details().toString().contains("sessionPresent=true"),
                    Duration.ofSeconds(15));
            received.awaitCount(10, m -> m.payloadAsString().startsWith("q"), Duration.ofSeconds(10));
            // The broker kept the subscription: nothing was resubscribed, the handler was simply there.
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resubscribed")
                    && n.generation() == again.generation());
            pub.close().block(Duration.ofSeconds(10));
            sub.close().block(Duration.ofSeconds(10));
        }
    }
}
