package dev.tether.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The main job: every field report replayed on embedded defaults, and every step behaves. */
class DemoCommandIT {

    @Test
    void demoPlaysEveryStepAndExitsZero() {
        TetherCommandIT.Result r = TetherCommandIT.run("demo", "--json");
        assertThat(r.code()).as(r.out()).isZero();
        String summary = r.out().lines().filter(l -> l.contains("\"event\":\"summary\"")).findFirst().orElseThrow();
        assertThat(summary).contains("\"passed\":true").doesNotContain("\"passed\":false");
        // The lifecycle really was printed as it happened: the refusal, the refresh, the reload.
        assertThat(r.out()).contains("\"verdict\":\"refresh_credentials_then_retry\"", "\"event\":\"credentials_refreshed\"",
                "\"event\":\"close_received\",\"code\":1012");
    }
}
