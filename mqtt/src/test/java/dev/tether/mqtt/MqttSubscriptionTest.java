package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MqttSubscriptionTest {

    // ------------------------------------------------------------------ shared subscription validation

    @Test
    void sharedSubscriptionWithAnEmptyGroupIsRefused() {
        assertThatThrownBy(() -> MqttSubscription.builder("$share//a/b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'$share//a/b'")
                .hasMessageContaining("group ''")
                .hasMessageContaining("not empty");
    }

    @ParameterizedTest
    @ValueSource(strings = {"$share/g+/a", "$share/+/a", "$share/g#/a", "$share/#/a"})
    void sharedSubscriptionGroupWithAWildcardIsRefused(String filter) {
        assertThatThrownBy(() -> MqttSubscription.builder(filter))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + filter + "'")
                .hasMessageContaining("has no '/', '+' or '#'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"$share/g", "$share/"})
    void sharedSubscriptionWithoutAFilterIsRefused(String filter) {
        assertThatThrownBy(() -> MqttSubscription.builder(filter))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + filter + "'")
                .hasMessageContaining("needs a group and a filter: $share/{group}/{filter}");
    }

    @Test
    void sharedSubscriptionWithAnEmptyFilterAfterTheGroupIsRefused() {
        assertThatThrownBy(() -> MqttSubscription.builder("$share/g/"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'$share/g/'")
                .hasMessageContaining("no filter after its group");
    }

    @Test
    void sharedSubscriptionWithAnInvalidFilterNamesTheWholeFilter() {
        assertThatThrownBy(() -> MqttSubscription.builder("$share/g/a/#/b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'$share/g/a/#/b'")
                .hasMessageContaining("'#' only as the whole last level");
        assertThatThrownBy(() -> MqttSubscription.builder("$share/g/a+"))
                .hasMessageContaining("'$share/g/a+'")
                .hasMessageContaining("'+' only as a whole level");
    }

    @Test
    void noLocalOnASharedSubscriptionIsRefused() {
        MqttSubscription.Builder b = MqttSubscription.builder("$share/g/a/#");
        assertThatThrownBy(() -> b.noLocal(true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("noLocal is not allowed on the shared subscription '$share/g/a/#'")
                .hasMessageContaining("drop noLocal or subscribe without $share");
        assertThat(b.noLocal(false).build().noLocal()).isFalse();
        assertThat(MqttSubscription.builder("a/#").noLocal(true).build().noLocal()).isTrue();
    }

    @Test
    void plainFilterValidation() {
        assertThatThrownBy(() -> MqttSubscription.builder("")).hasMessageContaining("must not be empty");
        assertThatThrownBy(() -> MqttSubscription.builder("a/#/b")).hasMessageContaining("'a/#/b'");
        assertThatThrownBy(() -> MqttSubscription.builder("a\u0000b")).hasMessageContaining("null character");
        assertThatThrownBy(() -> MqttSubscription.builder(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("topicFilter");
        assertThat(MqttSubscription.builder("$share").build().isShared()).as("no slash: a plain topic filter").isFalse();
    }

    @Test
    void subscriptionIdentifierRange() {
        assertThatThrownBy(() -> MqttSubscription.builder("a").subscriptionIdentifier(0))
                .hasMessageContaining("between 1 and 268435455, but was 0");
        assertThatThrownBy(() -> MqttSubscription.builder("a").subscriptionIdentifier(MqttSubscription.MAX_SUBSCRIPTION_IDENTIFIER + 1))
                .hasMessageContaining("but was 268435456");
        assertThat(MqttSubscription.builder("a").subscriptionIdentifier(MqttSubscription.MAX_SUBSCRIPTION_IDENTIFIER).build()
                .subscriptionIdentifier()).hasValue(MqttSubscription.MAX_SUBSCRIPTION_IDENTIFIER);
    }

    // ------------------------------------------------------------------ accessors

    @Test
    void sharedSubscriptionParts() {
        MqttSubscription s = MqttSubscription.builder("$share/workers/jobs/+/#").build();
        assertThat(s.isShared()).isTrue();
        assertThat(s.shareGroup()).hasValue("workers");
        assertThat(s.matchingFilter()).isEqualTo("jobs/+/#");
        assertThat(s.topicFilter()).isEqualTo("$share/workers/jobs/+/#");
    }

    @Test
    void plainSubscriptionParts() {
        MqttSubscription s = MqttSubscription.of("jobs/+/#", MqttQos.EXACTLY_ONCE);
        assertThat(s.isShared()).isFalse();
        assertThat(s.shareGroup()).isEmpty();
        assertThat(s.matchingFilter()).isEqualTo("jobs/+/#");
        assertThat(s.qos()).isEqualTo(MqttQos.EXACTLY_ONCE);
    }

    @Test
    void defaults() {
        MqttSubscription s = MqttSubscription.builder("a").build();
        assertThat(s.qos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
        assertThat(s.noLocal()).isFalse();
        assertThat(s.retainAsPublished()).isFalse();
        assertThat(s.retainHandling()).isEqualTo(RetainHandling.SEND);
        assertThat(s.subscriptionIdentifier()).isEmpty();
    }

    // ------------------------------------------------------------------ value semantics

    @Test
    void equalsHashCodeAndToBuilderRoundTrip() {
        MqttSubscription s = MqttSubscription.builder("a/+/c")
                .qos(MqttQos.EXACTLY_ONCE)
                .noLocal(true)
                .retainAsPublished(true)
                .retainHandling(RetainHandling.SEND_IF_NEW)
                .subscriptionIdentifier(42)
                .build();
        MqttSubscription copy = s.toBuilder().build();
        assertThat(copy).isEqualTo(s).hasSameHashCodeAs(s).isNotSameAs(s);
        assertThat(copy.toString()).isEqualTo(s.toString());
        assertThat(s.toString()).contains("a/+/c", "qos=2", "noLocal", "retainAsPublished", "SEND_IF_NEW",
                "subscriptionIdentifier=42");

        assertThat(s.toBuilder().qos(MqttQos.AT_LEAST_ONCE).build()).isNotEqualTo(s);
        assertThat(s.toBuilder().noLocal(false).build()).isNotEqualTo(s);
        assertThat(s.toBuilder().retainAsPublished(false).build()).isNotEqualTo(s);
        assertThat(s.toBuilder().retainHandling(RetainHandling.SEND).build()).isNotEqualTo(s);
        assertThat(s.toBuilder().subscriptionIdentifier(43).build()).isNotEqualTo(s);
        assertThat(MqttSubscription.builder("a/+/d").qos(MqttQos.EXACTLY_ONCE).noLocal(true).retainAsPublished(true)
                .retainHandling(RetainHandling.SEND_IF_NEW).subscriptionIdentifier(42).build()).isNotEqualTo(s);
        assertThat(s).isNotEqualTo(null).isNotEqualTo("a/+/c");
    }

    @Test
    void sharedSubscriptionRoundTrip() {
        MqttSubscription s = MqttSubscription.builder("$share/g/a/#").qos(MqttQos.AT_MOST_ONCE).build();
        MqttSubscription copy = s.toBuilder().build();
        assertThat(copy).isEqualTo(s).hasSameHashCodeAs(s);
        assertThat(copy.shareGroup()).hasValue("g");
        assertThat(copy.matchingFilter()).isEqualTo("a/#");
    }
}
