package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ConnectionClosedException;
import dev.tether.core.FatalConnectionException;
import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.test.FakeBroker;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** How a subscription's stream ends: one rule for every stream after a close. */
class SubscriptionEndIT {

    static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void aFatalVerdictEndsTheSubscriptionWithConnectionClosedCausedByIt() {
        // CONNACK 3.1.1 return code 2: identifier rejected, which retrying cannot fix.
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x20, 0x02, 0x00, 0x02))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).version(MqttVersion.MQTT_3_1_1)
                    .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(10)).build()).build();
            StepVerifier.create(client.subscribe("a/#", MqttQos.AT_LEAST_ONCE))
                    .then(client::start)
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class)
                            .hasCauseInstanceOf(FatalConnectionException.class))
                    .verify(WAIT);
            StepVerifier.create(client.subscribeWithAcknowledgement(MqttSubscription.of("b/#", MqttQos.AT_LEAST_ONCE)))
                    .expectError(ConnectionClosedException.class)
                    .verify(WAIT);
        }
    }

    @Test
    void aUserCloseCompletesTheSubscription() {
        // CONNACK 3.1.1 accepted, then nothing: the client stays connected until closed.
        try (FakeBroker broker = FakeBroker.start(n -> bytes(0x20, 0x02, 0x00, 0x00))) {
            MqttClient client = MqttClient.builder().endpoint(broker.tcpUri()).version(MqttVersion.MQTT_3_1_1).build();
            StepVerifier.create(client.subscribe("a/#", MqttQos.AT_MOST_ONCE))
                    .then(() -> {
                        client.start();
                        client.awaitConnected(WAIT).block();
                        client.close().subscribe();
                    })
                    .expectComplete()
                    .verify(WAIT);
        }
    }
}
