"""Where households and sites are: the council's postcode directory, and its area.

Without a directory a postcode is placed at its district's centre (the shipped outcode
table), and every distance measured from it says so ("approximate"). ``foodmatch geo import``
loads a full postcode directory in a published format a council holds (the ONS Postcode
Directory CSV, or the OS Code-Point Open zip); from then on a full postcode gets its own
centroid, and a terminated or unknown one is refused with a plain reason.
"""
