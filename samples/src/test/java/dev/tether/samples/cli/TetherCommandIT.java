package dev.tether.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The command's contract with its user: help, usage errors, exit codes, durations. */
class TetherCommandIT {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = TetherCommand.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] cmd : new String[][] {{"--help"}, {"demo", "--help"}, {"probe", "mqtt", "--help"}, {"probe", "ws", "--help"},
                {"watch", "--help"}, {"serve", "--help"}}) {
            Result r = run(cmd);
            assertThat(r.code()).as(String.join(" ", cmd)).isZero();
            assertThat(r.out()).contains("Usage:");
        }
        assertThat(run("probe", "mqtt", "--help").out()).contains("--json", "--mqtt-version", "--password-file");
    }

    @Test
    void durationsAcceptMillisecondsSecondsMinutes() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(Durations.parse("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThatThrownBy(() -> Durations.parse("2 seconds")).hasMessageContaining("500ms, 2s, 1m");
        assertThatThrownBy(() -> Durations.parse("-1s")).hasMessageContaining("not a duration");
    }

    @Test
    void badInputEndsWithOneClearLineAndANonZeroCode() {
        Result scheme = run("probe", "mqtt", "foo://127.0.0.1:1");
        assertThat(scheme.code()).isEqualTo(2);
        assertThat(scheme.err()).contains("unknown scheme 'foo'").doesNotContain("Exception", "\tat ");

        Result duration = run("probe", "ws", "ws://127.0.0.1:1/", "--close-timeout", "soon");
        assertThat(duration.code()).isEqualTo(2);
        assertThat(duration.err()).contains("'soon' is not a duration");

        Result version = run("probe", "mqtt", "tcp://127.0.0.1:1", "--mqtt-version", "4");
        assertThat(version.code()).isEqualTo(2);
        assertThat(version.err()).contains("3 or 5");

        Result both = run("watch", "mqtt", "tcp://127.0.0.1:1", "--password", "a", "--password-file", "b");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("not both");

        Result share = run("watch", "mqtt", "tcp://127.0.0.1:1", "--subscribe", "$share/nogroup");
        assertThat(share.code()).isEqualTo(2);
        assertThat(share.err()).contains("--subscribe: shared subscription '$share/nogroup' needs a group and a filter")
                .doesNotContain("\tat ");

        Result protocol = run("watch", "amqp", "tcp://127.0.0.1:1");
        assertThat(protocol.code()).isEqualTo(2);
        assertThat(protocol.err()).contains("unknown protocol 'amqp'");
    }

    @Test
    void unreachableHostIsOneLineAndExitOne() {
        Result r = run("probe", "ws", "ws://127.0.0.1:1/", "--timeout", "2s");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("cannot connect to ws://127.0.0.1:1/").contains("refused");
        assertThat(r.out() + r.err()).doesNotContain("\tat ");
    }
}
