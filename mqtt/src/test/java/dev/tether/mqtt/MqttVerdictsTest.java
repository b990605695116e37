package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.Verdict;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The CONNACK verdict table of the design, code by code. */
class MqttVerdictsTest {

    @ParameterizedTest
    @CsvSource({
            "MQTT_3_1_1, 1, FATAL", "MQTT_3_1_1, 2, FATAL", "MQTT_3_1_1, 3, RETRY",
            "MQTT_3_1_1, 4, REFRESH_CREDENTIALS_THEN_RETRY", "MQTT_3_1_1, 5, REFRESH_CREDENTIALS_THEN_RETRY",
            "MQTT_5, 0x80, RETRY", "MQTT_5, 0x83, RETRY", "MQTT_5, 0x88, RETRY", "MQTT_5, 0x89, RETRY",
            "MQTT_5, 0x97, RETRY", "MQTT_5, 0x9F, RETRY",
            "MQTT_5, 0x86, REFRESH_CREDENTIALS_THEN_RETRY", "MQTT_5, 0x87, REFRESH_CREDENTIALS_THEN_RETRY",
            "MQTT_5, 0x8C, REFRESH_CREDENTIALS_THEN_RETRY",
            "MQTT_5, 0x81, FATAL", "MQTT_5, 0x82, FATAL", "MQTT_5, 0x84, FATAL", "MQTT_5, 0x85, FATAL",
            "MQTT_5, 0x8A, FATAL", "MQTT_5, 0x90, FATAL", "MQTT_5, 0x95, FATAL", "MQTT_5, 0x99, FATAL",
            "MQTT_5, 0x9A, FATAL", "MQTT_5, 0x9B, FATAL"})
    void connackTable(MqttVersion version, String code, Verdict.Kind kind) {
        int c = Integer.decode(code);
        Verdict v = MqttVerdicts.connack().classify(new MqttConnackRefusedException(version, c, null, null)).orElseThrow();
        assertThat(v.kind()).isEqualTo(kind);
        if (kind == Verdict.Kind.FATAL) {
            assertThat(v.explanation()).contains(MqttConnackRefusedException.describe(version, c));
        }
    }

    @Test
    void busyAndRateLimitedWaitLonger() {
        assertThat(MqttVerdicts.forConnack(MqttVersion.MQTT_5, 0x89).minimumDelay()).isEqualTo(MqttVerdicts.BUSY_MIN_DELAY);
        assertThat(MqttVerdicts.forConnack(MqttVersion.MQTT_5, 0x9F).minimumDelay())
                .isEqualTo(MqttVerdicts.RATE_LIMIT_MIN_DELAY).isGreaterThan(Duration.ofSeconds(1));
        assertThat(MqttVerdicts.forConnack(MqttVersion.MQTT_5, 0x80).maxConsecutive()).hasValue(MqttVerdicts.UNSPECIFIED_MAX_CONSECUTIVE);
    }

    @Test
    void redirectsFollowTheServerReferenceWhenThereIsOne() {
        Endpoint other = Endpoint.of("tcp://other.example:1884");
        Verdict v = MqttVerdicts.connack().classify(new MqttConnackRefusedException(MqttVersion.MQTT_5, 0x9D, null, other)).orElseThrow();
        assertThat(v.kind()).isEqualTo(Verdict.Kind.REDIRECT);
        assertThat(v.redirectTarget()).hasValue(other);
        Verdict none = MqttVerdicts.connack().classify(new MqttConnackRefusedException(MqttVersion.MQTT_5, 0x9C, null, null)).orElseThrow();
        assertThat(none.kind()).isEqualTo(Verdict.Kind.RETRY);
    }

    @Test
    void findsTheRefusalInTheCauseChainAndHasNoOpinionOnOthers() {
        IOException wrapped = new IOException("attempt failed", new MqttConnackRefusedException(MqttVersion.MQTT_5, 0x86, "expired", null));
        assertThat(MqttVerdicts.connack().classify(wrapped)).map(Verdict::kind).hasValue(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
        assertThat(MqttVerdicts.connack().classify(new IOException("reset"))).isEmpty();
    }
}
