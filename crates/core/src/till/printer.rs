//! Where receipts are printed: an ESC/POS printer over the network (raw TCP, port 9100) or
//! a USB printer device, written with a timeout.
