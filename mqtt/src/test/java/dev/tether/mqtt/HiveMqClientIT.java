package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.HiveMqBroker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.test.StepVerifier;

/** Publish and subscribe against embedded HiveMQ CE, MQTT 5, over TCP and WebSocket. */
class HiveMqClientIT {

    static HiveMqBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = HiveMqBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    static String uri(String transport) {
        return transport.equals("ws") ? broker.wsUri() : broker.tcpUri();
    }

    static MqttClient.Builder client(String transport) {
        return MqttClient.builder().endpoint(uri(transport))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(500)).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ws"})
    void publishesAndReceivesEveryQos(String transport) {
        MqttClient sub = client(transport).clientId("sub-" + transport).build().start();
        MqttClient pub = client(transport).clientId("pub-" + transport).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        try (Recorder<MqttMessage> received = Recorder.of(sub.subscribe("qos/" + transport + "/#", MqttQos.EXACTLY_ONCE))) {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().endsWith("subscribed"), Duration.ofSeconds(10));
            for (MqttQos qos : MqttQos.values()) {
                StepVerifier.create(pub.publish(MqttMessage.of("qos/" + transport + "/" + qos.value(), "m" + qos.value(), qos)))
                        .assertNext(r -> {
                            assertThat(r.qos()).isEqualTo(qos);
                            assertThat(r.packetId() > 0).isEqualTo(qos != MqttQos.AT_MOST_ONCE);
                        })
                        .verifyComplete();
            }
            received.awaitCount(3, m -> m.topic().startsWith("qos/" + transport + "/"), Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::payloadAsString).containsExactlyInAnyOrder("m0", "m1", "m2");
            LifecycleEvent.Connected c = events.await(LifecycleEvent.Connected.class, Duration.ofSeconds(1));
            assertThat(c.details().toString()).contains("MQTT 5 over " + transport);
        } finally {
            sub.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ws"})
    void gracefulCloseDrainsPublishesInFlightBeforeDisconnect(String transport) {
        MqttClient client = client(transport).clientId("drain-" + transport).build().start();
        client.awaitConnected(Duration.ofSeconds(10)).block();
        List<reactor.core.publisher.Mono<PublishResult>> inFlight = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            reactor.core.publisher.Mono<PublishResult> r = client.publish(MqttMessage.of("drain/" + transport, "m" + i,
                    MqttQos.EXACTLY_ONCE)).cache();
            r.subscribe(x -> { }, e -> { });
            inFlight.add(r);
        }
        client.close().block(Duration.ofSeconds(10));
        // Every publish in flight when close() was called was completed by PUBCOMP before DISCONNECT.
        List<PublishResult> done = reactor.core.publisher.Flux.concat(inFlight).collectList().block(Duration.ofSeconds(1));
        assertThat(done).hasSize(20).allSatisfy(r -> assertThat(r.qos()).isEqualTo(MqttQos.EXACTLY_ONCE));
    }

    @org.junit.jupiter.api.Test
    void theBrokerHonoursTheAnnouncedMaximumPacketSizeAndTheClientsOwnLimitFailsOnlyThatPublish() {
        MqttClient small = client("tcp").clientId("small-packets").maxPacketSize(256).build();
        MqttClient pub = client("tcp").clientId("big-publisher").build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(small.lifecycle());
        Recorder<MqttMessage> received = Recorder.of(small.subscribe("size/#", MqttQos.AT_LEAST_ONCE));
        small.start();
        try {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            // MQTT 5: the broker must not send the client a packet above the Maximum Packet Size it announced.
            pub.publish(MqttMessage.of("size/big", new byte[1000], MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            pub.publish(MqttMessage.of("size/small", "fits", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            received.await(m -> m.topic().equals("size/small"), Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::topic).containsExactly("size/small");
            // Outbound, the client's own limit fails that publish alone.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> small.publish(MqttMessage.of("size/mine", new byte[1000],
                    MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10)))
                    .isInstanceOf(MqttPacketTooLargeException.class).hasMessageContaining("client's maxPacketSize of 256 bytes");
            small.publish(MqttMessage.of("size/after", "still up", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            received.await(m -> m.topic().equals("size/after"), Duration.ofSeconds(10));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Disconnected);
        } finally {
            small.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    static CredentialsProvider rotating(List<String> secrets) {
        java.util.concurrent.atomic.AtomicInteger i = new java.util.concurrent.atomic.AtomicInteger();
        return req -> reactor.core.publisher.Mono.fromSupplier(() -> Credentials.of("user",
                secrets.get(Math.min(secrets.size() - 1, req.refresh() ? i.incrementAndGet() : i.get()))));
    }
}
