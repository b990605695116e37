package dev.tether.mqtt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed fuzz corpus ({@code fuzz/mqtt-client-corpus.txt}): one seed per kind of input and every
 * input that once broke the client, each checked like a fuzz try (see {@link FuzzHarness}).
 */
class MqttDecodingCorpusTest {

    static FuzzHarness harness;

    @BeforeAll
    static void start() {
        harness = FuzzHarness.start();
    }

    @AfterAll
    static void stop() {
        harness.close();
    }

    static List<String> corpus() throws IOException {
        try (InputStream in = Objects.requireNonNull(MqttDecodingCorpusTest.class.getResourceAsStream("/fuzz/mqtt-client-corpus.txt"));
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            return r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        }
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void corpusEntry(String line) {
        String hex = line.split("\\s+")[0];
        harness.check(HexFormat.of().parseHex(hex));
    }
}
