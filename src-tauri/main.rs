fn main() { otp_desk_app::run() }
