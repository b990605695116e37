package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Credentials;
import dev.tether.core.OverflowPolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Settings are validated at once, and the message names the field and the bad value. */
class MqttClientBuilderTest {

    @Test
    void rejectsBadValuesNamingTheField() {
        MqttClient.Builder b = MqttClient.builder();
        assertThatThrownBy(() -> b.endpoint("http://host")).hasMessageContaining("scheme 'http'");
        assertThatThrownBy(() -> b.keepAlive(Duration.ofMillis(1500))).hasMessageContaining("keepAlive").hasMessageContaining("PT1.5S");
        assertThatThrownBy(() -> b.keepAlive(Duration.ofSeconds(70000))).hasMessageContaining("keepAlive");
        assertThatThrownBy(() -> b.pingTimeout(Duration.ZERO)).hasMessageContaining("pingTimeout must be positive, but was PT0S");
        assertThatThrownBy(() -> b.connackTimeout(Duration.ofSeconds(-1))).hasMessageContaining("connackTimeout");
        assertThatThrownBy(() -> b.offlineBuffer(-1, OverflowPolicy.DROP_OLDEST)).hasMessageContaining("capacity must be >= 0, but was -1");
        assertThatThrownBy(() -> b.maxInFlight(0)).hasMessageContaining("maxInFlight").hasMessageContaining("was 0");
        assertThatThrownBy(() -> b.receiveMaximum(70000)).hasMessageContaining("receiveMaximum").hasMessageContaining("70000");
        assertThatThrownBy(() -> b.sessionExpiry(Duration.ofSeconds(-5))).hasMessageContaining("sessionExpiry");
        assertThatThrownBy(() -> b.authenticationMethod(" ")).hasMessageContaining("authenticationMethod");
        assertThatThrownBy(b::build).hasMessageContaining("endpoints must not be empty");
        assertThatThrownBy(() -> MqttClient.builder().endpoint("tcp://h").version(MqttVersion.MQTT_3_1_1)
                .authenticationMethod("token").build()).hasMessageContaining("authenticationMethod needs MQTT 5");
    }

    @Test
    void messagesAndWillsValidateAndCopy() {
        assertThatThrownBy(() -> MqttMessage.of("a/+", "x", MqttQos.AT_MOST_ONCE)).hasMessageContaining("without wildcards");
        byte[] payload = {1, 2, 3};
        MqttMessage m = MqttMessage.of("a", payload, MqttQos.EXACTLY_ONCE);
        payload[0] = 9;
        assertThat(m.payload()).containsExactly(1, 2, 3);
        assertThat(m).isEqualTo(m.toBuilder().build()).hasSameHashCodeAs(m.toBuilder().build());
        assertThat(MqttQos.of(2)).isEqualTo(MqttQos.EXACTLY_ONCE);
        assertThatThrownBy(() -> MqttQos.of(3)).hasMessageContaining("was 3");
        assertThatThrownBy(() -> MqttWill.builder(m).delay(Duration.ofSeconds(-1))).hasMessageContaining("delay");
    }

    @Test
    void wrappedPayloadsAreTheCallersArrayAndCopiesStayCopies() {
        byte[] payload = {1, 2, 3};
        MqttMessage wrapped = MqttMessage.wrap("a", payload, MqttQos.AT_LEAST_ONCE);
        MqttMessage built = MqttMessage.builder("a").wrapPayload(payload).qos(MqttQos.AT_LEAST_ONCE).build();
        MqttMessage copied = MqttMessage.of("a", payload, MqttQos.AT_LEAST_ONCE);
        assertThat(wrapped).isEqualTo(copied).isEqualTo(built).hasSameHashCodeAs(copied);
        assertThat(wrapped.toString()).isEqualTo(copied.toString()).doesNotContain("1, 2");
        // payload() still hands out a copy, and the read-only view cannot be written through
        wrapped.payload()[0] = 7;
        assertThat(wrapped.payloadAsReadOnlyBuffer().get(0)).isEqualTo((byte) 1);
        assertThat(wrapped.payloadAsReadOnlyBuffer().isReadOnly()).isTrue();
        assertThat(wrapped.payloadAsReadOnlyBuffer().remaining()).isEqualTo(3);
        // the documented contract when the caller breaks its promise: the wrapping messages follow the array
        payload[0] = 9;
        assertThat(wrapped.payload()).containsExactly(9, 2, 3);
        assertThat(built.toBuilder().build().payload()).containsExactly(9, 2, 3);
        assertThat(copied.payload()).containsExactly(1, 2, 3);
        assertThat(wrapped).isNotEqualTo(copied);
        assertThatThrownBy(() -> MqttMessage.wrap("a/#", payload, MqttQos.AT_MOST_ONCE)).hasMessageContaining("without wildcards");
        assertThatThrownBy(() -> MqttMessage.builder("a").wrapPayload(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("payload");
    }

    @Test
    void invalidTopicFiltersAreRefusedAtOnce() {
        MqttClient client = MqttClient.builder().endpoint("tcp://127.0.0.1:1").build();
        assertThatThrownBy(() -> client.subscribe("a/#/b", MqttQos.AT_MOST_ONCE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a/#/b");
    }

    @Test
    void secretsNeverShowInToString() {
        MqttClient client = MqttClient.builder().endpoint("tcp://127.0.0.1:1")
                .credentials(r -> reactor.core.publisher.Mono.just(Credentials.of("u", "s3cr3t"))).build();
        assertThat(client.toString()).doesNotContain("s3cr3t");
        assertThat(MqttMessage.of("t", "s3cr3t", MqttQos.AT_MOST_ONCE).toString()).doesNotContain("s3cr3t");
    }
}
