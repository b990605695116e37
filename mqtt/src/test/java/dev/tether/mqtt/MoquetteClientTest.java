package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.mqtt.test.MoquetteBroker;
import dev.tether.mqtt.test.Recorder;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Publish and subscribe against embedded Moquette, MQTT 3.1.1 and 5, over TCP and WebSocket. */
class MoquetteClientTest {

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
}
