#include "serial_input.hpp"

namespace es {

namespace {

constexpr std::uint32_t mask = ES_INPUT_RING_BYTES - 1;

std::uint32_t load_acquire(const std::uint32_t& v) {
    return __atomic_load_n(&v, __ATOMIC_ACQUIRE);
}
void store_release(std::uint32_t& v, std::uint32_t value) {
    __atomic_store_n(&v, value, __ATOMIC_RELEASE);
}

} // namespace

std::size_t serial_input_push(serial_input& in, const std::uint8_t* bytes, std::size_t n) {
    const std::uint32_t head = in.head; // only this writer changes it
    const std::uint32_t room = ES_INPUT_RING_BYTES - (head - load_acquire(in.tail));
    const std::uint32_t count = n < room ? static_cast<std::uint32_t>(n) : room;
    for (std::uint32_t i = 0; i < count; ++i)
        in.bytes[(head + i) & mask] = bytes[i];
    store_release(in.head, head + count);
    return count;
}

std::uint32_t serial_input_waiting(const serial_input& in) {
    return load_acquire(in.head) - in.tail;
}

bool serial_input_listening(const pc_board& b) {
    return (b.com1.ier & uart::ier_rdi) != 0;
}

bool serial_input_deliverable(const serial_input& in, const pc_board& b) {
    return serial_input_waiting(in) != 0 && serial_input_listening(b) && uart_rx_room(b.com1) != 0;
}

void serial_input_drain(serial_input& in, pc_board& b) {
    if (!serial_input_listening(b))
        return;
    std::uint32_t tail = in.tail;
    std::uint32_t waiting = load_acquire(in.head) - tail;
    while (waiting) {
        // The contiguous run up to the ring's end, as much of it as the FIFO takes.
        const std::uint32_t at = tail & mask;
        const std::uint32_t run =
            waiting < ES_INPUT_RING_BYTES - at ? waiting : ES_INPUT_RING_BYTES - at;
        const auto taken = static_cast<std::uint32_t>(board_receive(b, in.bytes + at, run));
        tail += taken;
        waiting -= taken;
        if (taken < run)
            break;
    }
    store_release(in.tail, tail);
}

std::uint32_t serial_input_head(const serial_input& in) {
    return load_acquire(in.head);
}

} // namespace es
