package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicFiltersTest {

    @ParameterizedTest
    @CsvSource({
            "a/b, a/b, true", "a/b, a/c, false", "a/+, a/b, true", "a/+, a/b/c, false", "a/#, a, true",
            "a/#, a/b/c, true", "#, a/b, true", "+/+, a/b, true", "+, a/b, false", "a/+/c, a/x/c, true",
            "#, $SYS/x, false", "+/x, $SYS/x, false", "$SYS/#, $SYS/x, true", "a//b, a//b, true", "a/+/b, a//b, true"})
    void matches(String filter, String topic, boolean expected) {
        assertThat(TopicFilters.matches(filter, topic)).isEqualTo(expected);
    }

    @Test
    void rejectsMisplacedWildcards() {
        assertThatThrownBy(() -> TopicFilters.validate("a/#/b")).hasMessageContaining("'#' only as the whole last level");
        assertThatThrownBy(() -> TopicFilters.validate("a/b+")).hasMessageContaining("'+' only as a whole level");
        assertThatThrownBy(() -> TopicFilters.validate("")).hasMessageContaining("must not be empty");
        TopicFilters.validate("a/+/#");
    }
}
