package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * TCP endpoints by host name: the name is resolved off the event loop (BlockHound watches the loops in these
 * tests) and a name that does not resolve is a retried failure that says which name.
 */
class HostResolutionIT {

    static final byte[] CONNACK_V5_OK = bytes(0x20, 0x03, 0x00, 0x00, 0x00);

    @Test
    void connectsToAHostName() {
        try (FakeBroker broker = FakeBroker.start(n -> CONNACK_V5_OK)) {
            MqttClient c = MqttClient.builder().endpoint("tcp://localhost:" + broker.port()).build().start();
            MqttSession session = c.awaitConnected(Duration.ofSeconds(10)).block();
            assertThat(session.transport()).isEqualTo("tcp");
            c.close().block(Duration.ofSeconds(5));
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aNameThatDoesNotResolveIsRetriedAndNamed() {
        // .invalid never resolves (RFC 2606).
        MqttClient c = MqttClient.builder().endpoint("tcp://no-such-host.invalid:1883")
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build())
                .build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
        c.start();
        LifecycleEvent.RetryScheduled first = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(30));
        assertThat(first.cause()).hasMessageContaining("cannot resolve no-such-host.invalid");
        events.await(e -> e instanceof LifecycleEvent.RetryScheduled r && r.nextAttempt() >= 3, Duration.ofSeconds(60));
        c.close().block(Duration.ofSeconds(5));
        assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
    }
}
