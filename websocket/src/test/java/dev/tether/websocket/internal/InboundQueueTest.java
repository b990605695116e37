package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.websocket.WebSocketMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** Messages wait for the application's demand; reading pauses when the queue is full and resumes at half. */
class InboundQueueTest {

    private final List<String> reading = new ArrayList<>();
    private final InboundQueue queue = new InboundQueue("s-1", 4, 1000, Runnable::run, new InboundQueue.Reading() {
        @Override
        public void pause() {
            reading.add("pause");
        }

        @Override
        public void resume() {
            reading.add("resume");
        }
    });

    @Test
    void readingPausesWhenFullResumesAtHalfAndTheEndCompletesAfterWhatIsHeld() {
        for (int i = 0; i < 4; i++) {
            queue.add(WebSocketMessage.text("m" + i), true);
        }
        assertThat(reading).containsExactly("pause");
        assertThat(queue.readingPaused()).isTrue();
        StepVerifier.create(queue.receive().map(WebSocketMessage::text), 1)
                .expectNext("m0")
                .then(() -> assertThat(reading).containsExactly("pause"))
                .thenRequest(1)
                .expectNext("m1")
                .then(() -> assertThat(reading).containsExactly("pause", "resume"))
                .then(queue::end)
                .thenRequest(10)
                .expectNext("m2", "m3")
                .verifyComplete();
    }

    @Test
    void aboutOneLargestMessageInBytesAlsoPausesReadingButNotWhileClosing() {
        queue.add(WebSocketMessage.binary(new byte[1000]), false);
        assertThat(reading).as("closing: reading must go on").isEmpty();
        queue.add(WebSocketMessage.binary(new byte[10]), true);
        assertThat(reading).containsExactly("pause");
        assertThat(queue.heldBytes()).isEqualTo(1010);
    }

    @Test
    void aSecondReceiverIsRefused() {
        queue.receive().subscribe();
        StepVerifier.create(queue.receive()).expectErrorMessage("session s-1 already has a receiver; subscribe to receive() once")
                .verify();
    }
}
