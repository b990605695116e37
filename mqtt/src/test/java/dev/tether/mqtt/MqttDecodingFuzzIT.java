package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static dev.tether.mqtt.test.FakeBroker.concat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the client's MQTT decoding path: whatever a broker sends after a valid
 * CONNACK (random bytes, mutated valid packets, truncations, oversized remaining lengths, invalid QoS
 * and flags, bad UTF-8 topics, invalid property ids), the client does not hang, lets no exception
 * escape, buffers nothing beyond its maximum packet size, closes with a clear
 * {@link MqttProtocolException} and acknowledges nothing it did not receive; a well-behaved client of
 * a real broker in the same JVM keeps working. Fixed seed and bounded tries; the committed corpus and
 * the regressions are in {@link MqttDecodingCorpusTest}.
 */
class MqttDecodingFuzzIT {

    static FuzzHarness harness;
    static FuzzHarness webSocketHarness;

    @BeforeContainer
    static void start() {
        harness = FuzzHarness.start();
        webSocketHarness = FuzzHarness.startWebSocket();
    }

    @AfterContainer
    static void stop() {
        try {
            harness.close();
        } finally {
            webSocketHarness.close();
        }
    }

    @Property(tries = 250, seed = "7215366", shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    void whateverTheBrokerSendsTheClientStaysInControl(@ForAll("brokerBytes") byte[] input) {
        Statistics.collect(harness.check(input));
    }

    @Property(tries = 60, seed = "5120931", shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    void overWebSocketTooWhateverTheBrokerSendsTheClientStaysInControl(@ForAll("brokerBytes") byte[] input) {
        Statistics.collect(webSocketHarness.check(input));
    }

    @Provide
    Arbitrary<byte[]> brokerBytes() {
        Arbitrary<byte[]> valid = Arbitraries.of(MqttFuzzInputs.VALID);
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(48);
        Arbitrary<byte[]> mutated = Combinators.combine(valid, Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 63), Arbitraries.bytes()).as(MqttFuzzInputs::mutate);
        Arbitrary<byte[]> sequences = valid.list().ofMinSize(2).ofMaxSize(5)
                .map(list -> concat(list.toArray(new byte[0][])));
        Arbitrary<byte[]> mutatedSequences = Combinators.combine(sequences, Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 127), Arbitraries.bytes()).as(MqttFuzzInputs::mutate);
        Arbitrary<byte[]> oversized = Arbitraries.integers().between(FuzzHarness.MAX_PACKET, 268_435_455)
                .map(n -> concat(bytes(0x32), MqttFuzzInputs.varInt(n), bytes(0x00, 0x01, 't', 0x00, 0x01)));
        Arbitrary<byte[]> badFlags = Combinators.combine(Arbitraries.integers().between(0, 255), valid)
                .as((first, packet) -> {
                    byte[] copy = packet.clone();
                    copy[0] = (byte) (int) first;
                    return copy;
                });
        Arbitrary<byte[]> badUtf8 = Combinators.combine(Arbitraries.of(MqttFuzzInputs.BAD_UTF8), Arbitraries.integers().between(0, 2))
                .as(MqttFuzzInputs::publishWithTopic);
        Arbitrary<byte[]> badProperties = Combinators.combine(Arbitraries.integers().between(0, 255),
                Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(6), Arbitraries.of(0x30, 0x32, 0x40, 0xE0, 0x90))
                .as(MqttFuzzInputs::withProperty);
        return Arbitraries.frequencyOf(
                Tuple.of(3, random),
                Tuple.of(4, mutated),
                Tuple.of(2, sequences),
                Tuple.of(3, mutatedSequences),
                Tuple.of(1, oversized),
                Tuple.of(2, badFlags),
                Tuple.of(1, badUtf8),
                Tuple.of(2, badProperties));
    }
}
