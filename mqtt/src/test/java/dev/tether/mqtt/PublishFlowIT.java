package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.OverflowPolicy;
import dev.tether.mqtt.test.FakeBroker;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The offline buffer's overflow policies and the broker's Receive Maximum. */
class PublishFlowIT {

    static Mono<PublishResult> started(Mono<PublishResult> m, List<AtomicReference<Object>> outcomes) {
        AtomicReference<Object> outcome = new AtomicReference<>();
        outcomes.add(outcome);
        Mono<PublishResult> cached = m.cache();
        cached.subscribe(r -> outcome.set(r), outcome::set, () -> outcome.compareAndSet(null, "empty"));
        return cached;
    }

    @Test
    void offlineBufferFailsTheNewestWhenFull() {
        try (FakeBroker silent = FakeBroker.start(n -> new byte[0])) {
            MqttClient client = MqttClient.builder().endpoint(silent.tcpUri()).offlineBuffer(2, OverflowPolicy.FAIL_NEWEST).build().start();
            List<AtomicReference<Object>> outcomes = new ArrayList<>();
            Mono<PublishResult> first = started(client.publish(MqttMessage.of("t", "1", MqttQos.AT_LEAST_ONCE)), outcomes);
            started(client.publish(MqttMessage.of("t", "2", MqttQos.AT_LEAST_ONCE)), outcomes);
            StepVerifier.create(client.publish(MqttMessage.of("t", "3", MqttQos.AT_LEAST_ONCE)))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(BufferOverflowException.class)
                            .hasMessageContaining("2 elements"))
                    .verify(Duration.ofSeconds(5));
            // The silent broker never answers CONNECT, so a graceful close would wait for CONNACK (connackTimeout).
            client.abort().block(Duration.ofSeconds(5));
            // What waited fails when the client closes; nothing hangs.
            StepVerifier.create(first).expectError(ConnectionClosedException.class).verify(Duration.ofSeconds(5));
        }
    }

    @Test
    void offlineBufferDropsTheOldestOrTheNewest() {
        try (FakeBroker silent = FakeBroker.start(n -> new byte[0])) {
            MqttClient oldest = MqttClient.builder().endpoint(silent.tcpUri()).offlineBuffer(1, OverflowPolicy.DROP_OLDEST).build().start();
            List<AtomicReference<Object>> outcomes = new ArrayList<>();
            Mono<PublishResult> a = started(oldest.publish(MqttMessage.of("t", "a", MqttQos.AT_MOST_ONCE)), outcomes);
            started(oldest.publish(MqttMessage.of("t", "b", MqttQos.AT_MOST_ONCE)), outcomes);
            StepVerifier.create(a).verifyComplete();
            assertThat(outcomes.get(1).get()).isNull();
            oldest.abort().block(Duration.ofSeconds(5));

            MqttClient newest = MqttClient.builder().endpoint(silent.tcpUri()).offlineBuffer(1, OverflowPolicy.DROP_NEWEST).build().start();
            List<AtomicReference<Object>> kept = new ArrayList<>();
            started(newest.publish(MqttMessage.of("t", "a", MqttQos.AT_MOST_ONCE)), kept);
            StepVerifier.create(newest.publish(MqttMessage.of("t", "b", MqttQos.AT_MOST_ONCE))).verifyComplete();
            assertThat(kept.get(0).get()).isNull();
            newest.abort().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void receiveMaximumIsHonouredByWaitingNotByFailing() {
        // CONNACK with Receive Maximum 2; the fake broker never acknowledges a publish.
        byte[] connack = bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02);
        try (FakeBroker broker = FakeBroker.start(n -> connack)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).build().start();
            MqttSession session = client.awaitConnected(Duration.ofSeconds(5)).block();
            assertThat(session.receiveMaximum()).isEqualTo(2);
            List<AtomicReference<Object>> outcomes = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                started(client.publish(MqttMessage.of("t", "m" + i, MqttQos.AT_LEAST_ONCE)), outcomes);
            }
            assertThat(broker.receivedTypes().filter(t -> t == MqttMessageType.PUBLISH).take(2).count()
                    .timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()).block())
                    .as("2 PUBLISH received; got " + broker.received() + " " + broker.received().stream()
                            .map(m -> String.valueOf(m.decoderResult())).toList()).isEqualTo(2);
            // A later packet proves the broker has seen everything the client sent so far.
            client.subscribe("probe", MqttQos.AT_MOST_ONCE).subscribe();
            assertThat(broker.receivedTypes().filter(t -> t == MqttMessageType.SUBSCRIBE).next()
                    .timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()).block())
                    .as("SUBSCRIBE received; got " + broker.received()).isNotNull();
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.PUBLISH).hasSize(2);
            assertThat(outcomes).allSatisfy(o -> assertThat(o.get()).isNull());
            client.abort().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void whileConnectedWhatWaitsForASlotIsBoundedByTheOfflineBufferCapacityAndPolicy() {
        // CONNACK with Receive Maximum 2; the broker never acknowledges, so two publishes stay in flight.
        byte[] connack = bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x02);
        try (FakeBroker broker = FakeBroker.start(n -> connack)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).maxInFlight(2)
                    .offlineBuffer(3, OverflowPolicy.FAIL_NEWEST).build().start();
            client.awaitConnected(Duration.ofSeconds(5)).block();
            List<AtomicReference<Object>> outcomes = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                started(client.publish(MqttMessage.of("t", "m" + i, MqttQos.AT_LEAST_ONCE)), outcomes);
            }
            assertThat(broker.receivedTypes().filter(t -> t == MqttMessageType.PUBLISH).take(2).count()
                    .timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()).block()).isEqualTo(2);
            for (int i = 2; i < 5; i++) {
                started(client.publish(MqttMessage.of("t", "m" + i, MqttQos.AT_LEAST_ONCE)), outcomes);
            }
            // Two in flight, three waiting (the bound: max(offline capacity 3, maxInFlight 2)): the sixth overflows.
            StepVerifier.create(client.publish(MqttMessage.of("t", "m5", MqttQos.AT_LEAST_ONCE)))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(BufferOverflowException.class)
                            .hasMessageContaining("3 elements"))
                    .verify(Duration.ofSeconds(5));
            assertThat(outcomes).allSatisfy(o -> assertThat(o.get()).isNull());
            assertThat(client.connection().state()).isEqualTo(dev.tether.core.ConnectionState.CONNECTED);
            client.abort().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void theBrokersMaximumQosAndRetainAvailabilityAreRespected() {
        // CONNACK with Maximum QoS 1 and Retain Available 0.
        byte[] connack = bytes(0x20, 0x07, 0x00, 0x00, 0x04, 0x24, 0x01, 0x25, 0x00);
        try (FakeBroker broker = FakeBroker.start(n -> connack)) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).build().start();
            MqttSession session = client.awaitConnected(Duration.ofSeconds(5)).block();
            assertThat(session.maximumQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(session.retainAvailable()).isFalse();
            StepVerifier.create(client.publish(MqttMessage.builder("t").retain(true).build()))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(MqttRefusedException.class)
                            .hasMessageContaining("does not support retained messages"))
                    .verify(Duration.ofSeconds(5));
            client.publish(MqttMessage.of("t", "two", MqttQos.EXACTLY_ONCE)).subscribe(r -> { }, e -> { });
            broker.receivedTypes().filter(t -> t == MqttMessageType.PUBLISH).next().block(Duration.ofSeconds(5));
            assertThat(broker.received()).filteredOn(m -> m.fixedHeader().messageType() == MqttMessageType.PUBLISH)
                    .singleElement().satisfies(m -> assertThat(m.fixedHeader().qosLevel().value()).isEqualTo(1));
            client.abort().block(Duration.ofSeconds(5));
        }
    }
}
