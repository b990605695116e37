package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.MoquetteBroker;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Publish and subscribe against embedded Moquette, MQTT 3.1.1 and 5, over TCP and WebSocket. */
class MoquetteClientIT {

    static MoquetteBroker broker;

    @BeforeAll
    static void start() {
        broker = MoquetteBroker.start();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @ParameterizedTest(name = "{0} over {1}")
    @CsvSource({"MQTT_3_1_1, tcp", "MQTT_3_1_1, ws", "MQTT_5, tcp", "MQTT_5, ws"})
    void publishesAndReceivesEveryQos(MqttVersion version, String transport) {
        String uri = transport.equals("ws") ? broker.wsUri() : broker.tcpUri();
        String topic = "moq/" + version + "/" + transport;
        MqttClient sub = MqttClient.builder().endpoint(uri).version(version).build();
        MqttClient pub = MqttClient.builder().endpoint(uri).version(version).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        Recorder<MqttMessage> received = Recorder.of(sub.subscribe(topic + "/#", MqttQos.EXACTLY_ONCE));
        sub.start();
        try {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            for (MqttQos qos : MqttQos.values()) {
                PublishResult r = pub.publish(MqttMessage.of(topic + "/" + qos.value(), "m" + qos.value(), qos))
                        .block(Duration.ofSeconds(10));
                assertThat(r.qos()).isEqualTo(qos);
            }
            received.awaitCount(3, m -> true, Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::payloadAsString).containsExactlyInAnyOrder("m0", "m1", "m2");
            assertThat(received.items()).extracting(MqttMessage::qos)
                    .containsExactlyInAnyOrder(MqttQos.AT_MOST_ONCE, MqttQos.AT_LEAST_ONCE, MqttQos.EXACTLY_ONCE);
        } finally {
            sub.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    @org.junit.jupiter.api.Test
    void aWrappedPayloadArrivesByteForByte() {
        byte[] payload = new byte[4096]; // Moquette refuses packets above 8,092 bytes
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 31 + (i >>> 8));
        }
        byte[] expected = payload.clone();
        MqttClient sub = MqttClient.builder().endpoint(broker.tcpUri()).build();
        MqttClient pub = MqttClient.builder().endpoint(broker.tcpUri()).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        Recorder<MqttMessage> received = Recorder.of(sub.subscribe("wrapped/#", MqttQos.AT_LEAST_ONCE));
        sub.start();
        try {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            // one array wrapped by two messages in flight at once, as a benchmark or a fan-out does
            reactor.core.publisher.Flux.merge(pub.publish(MqttMessage.wrap("wrapped/a", payload, MqttQos.AT_LEAST_ONCE)),
                    pub.publish(MqttMessage.builder("wrapped/b").wrapPayload(payload).qos(MqttQos.AT_LEAST_ONCE).build()))
                    .blockLast(Duration.ofSeconds(10));
            received.awaitCount(2, m -> true, Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::payload).allSatisfy(p -> assertThat(p).isEqualTo(expected));
            assertThat(payload).isEqualTo(expected); // the library never wrote to the caller's array
        } finally {
            sub.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    @org.junit.jupiter.api.Test
    void everySubscriptionOfAPublishIsAPublishOfItsOwn() {
        MqttClient sub = MqttClient.builder().endpoint(broker.tcpUri()).build();
        MqttClient pub = MqttClient.builder().endpoint(broker.tcpUri()).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(sub.lifecycle());
        Recorder<MqttMessage> received = Recorder.of(sub.subscribe("again/#", MqttQos.AT_LEAST_ONCE));
        sub.start();
        try {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            for (MqttQos qos : new MqttQos[] {MqttQos.AT_MOST_ONCE, MqttQos.AT_LEAST_ONCE}) {
                reactor.core.publisher.Mono<PublishResult> once = pub.publish(MqttMessage.of("again/" + qos.value(), "x", qos));
                // Three subscriptions, one after the other and two at once: three publishes, three results.
                PublishResult first = once.block(Duration.ofSeconds(10));
                java.util.List<PublishResult> more = reactor.core.publisher.Flux.merge(once, once).collectList()
                        .block(Duration.ofSeconds(10));
                assertThat(first.qos()).isEqualTo(qos);
                assertThat(more).hasSize(2).allSatisfy(r -> assertThat(r.topic()).isEqualTo("again/" + qos.value()));
                if (qos == MqttQos.AT_LEAST_ONCE) {
                    assertThat(java.util.List.of(first.packetId(), more.get(0).packetId(), more.get(1).packetId()))
                            .doesNotHaveDuplicates().doesNotContain(0);
                }
            }
            received.awaitCount(6, m -> true, Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::topic).containsOnly("again/0", "again/1");
            assertThat(received.items()).filteredOn(m -> m.topic().equals("again/1")).hasSize(3);
        } finally {
            sub.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }

    @org.junit.jupiter.api.Test
    void aPacketOverTheClientsLimitFromAnMqtt311BrokerClosesTheConnectionAndTheClientComesBack() {
        // MQTT 3.1.1 cannot announce a maximum packet size: the broker sends the large packet anyway.
        MqttClient small = MqttClient.builder().endpoint(broker.tcpUri()).version(MqttVersion.MQTT_3_1_1)
                .clientId("small-311").maxPacketSize(256)
                .reconnect(dev.tether.core.ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50))
                        .maxDelay(Duration.ofMillis(200)).build()).build();
        MqttClient pub = MqttClient.builder().endpoint(broker.tcpUri()).version(MqttVersion.MQTT_3_1_1).build().start();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(small.lifecycle());
        Recorder<MqttMessage> received = Recorder.of(small.subscribe("size311/#", MqttQos.AT_LEAST_ONCE));
        small.start();
        try {
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), Duration.ofSeconds(10));
            pub.publish(MqttMessage.of("size311/big", new byte[1000], MqttQos.AT_MOST_ONCE)).block(Duration.ofSeconds(10));
            // The disconnect the oversized packet causes (once in a few runs of the whole class, Moquette closed the
            // connection by itself before; that is not what this test is about).
            LifecycleEvent.Disconnected d = (LifecycleEvent.Disconnected) events.await(e -> e instanceof LifecycleEvent.Disconnected x
                    && x.cause() instanceof MqttProtocolException, Duration.ofSeconds(10));
            assertThat(d.cause()).isInstanceOf(MqttProtocolException.class)
                    .hasMessageContaining("PUBLISH packet of 1016 bytes, larger than the client's maximum packet size of 256 bytes");
            events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resubscribed"), Duration.ofSeconds(10));
            pub.publish(MqttMessage.of("size311/small", "fits", MqttQos.AT_LEAST_ONCE)).block(Duration.ofSeconds(10));
            received.await(m -> m.topic().equals("size311/small"), Duration.ofSeconds(10));
            assertThat(received.items()).extracting(MqttMessage::topic).containsExactly("size311/small");
        } finally {
            small.close().block(Duration.ofSeconds(10));
            pub.close().block(Duration.ofSeconds(10));
        }
    }
}
